import pytest

from apps.tools.factories import CategoryFactory, ToolFactory


@pytest.fixture
def tool(community, owner):
    return ToolFactory(
        owner=owner,
        community=community,
        category=CategoryFactory(slug="power", name="Power tools"),
        title="Cordless drill",
        buffer_hours=2,
    )
