#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into a FRESH database and media folder.
#
#   DATABASE_URL=postgres://user:password@host:5432/newname MEDIA_ROOT=/restore/media \
#     scripts/restore.sh BACKUP_FOLDER
#
# The database named in DATABASE_URL is created (through the server's "postgres"
# database) unless it exists and is empty; a database that already has tables is never
# written over. MEDIA_ROOT must be missing or empty. Checksums are verified first. After a
# restore, run `manage.py migrate` (a no-op for a backup of the same version) and
# `manage.py verify_ledger` against it before pointing the site at it (docs/operations.md).
set -euo pipefail

die() { echo "restore: $*" >&2; exit 1; }

backup="${1:-}"
[ -n "$backup" ] && [ -d "$backup" ] || die "usage: restore.sh BACKUP_FOLDER (a folder written by scripts/backup.sh)"
[ -n "${DATABASE_URL:-}" ] || die "set DATABASE_URL (the NEW database to restore into)"
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  pgsql://* | psql://*) DATABASE_URL="postgresql://${DATABASE_URL#*://}" ;;
  *) die "DATABASE_URL is not a PostgreSQL URL" ;;
esac
for tool in pg_restore psql createdb sha256sum tar; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
media_root="${MEDIA_ROOT:-var/media}"

(cd "$backup" && sha256sum --quiet -c SHA256SUMS) || die "the backup's checksums do not match: it is damaged"

# The database's name, and a URL of the server's maintenance database to create it from
# (plain shell: the postgres image, which has the client tools, has no Python).
url_no_query="${DATABASE_URL%%\?*}"
query="${DATABASE_URL:${#url_no_query}}"
server_part="${url_no_query#*://}"
[[ "$server_part" == */* ]] || die "DATABASE_URL names no database"
dbname="${url_no_query##*/}"
[[ "$dbname" =~ ^[A-Za-z0-9_-]+$ ]] || die "DATABASE_URL names no database (letters, digits, _ and - only)"
maintenance_url="${url_no_query%/*}/postgres$query"

exists="$(echo "SELECT 1 FROM pg_database WHERE datname = :'name'" \
  | psql --no-password -X -tAq --dbname="$maintenance_url" -v name="$dbname" 2>/dev/null)" \
  || die "cannot reach the PostgreSQL server of DATABASE_URL"
if [ "$exists" = "1" ]; then
  tables="$(psql --no-password -X -tAq --dbname="$DATABASE_URL" \
    -c "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")"
  [ "$tables" = "0" ] || die "database $dbname already has $tables tables: restore into a new, empty database"
else
  createdb --no-password --maintenance-db="$maintenance_url" "$dbname"
fi

if [ -d "$media_root" ] && [ -n "$(ls -A "$media_root")" ]; then
  die "$media_root is not empty: restore the media into an empty folder"
fi

# One transaction: a restore that fails half-way leaves the new database empty.
pg_restore --no-password --no-owner --no-privileges --exit-on-error --single-transaction \
  --dbname="$DATABASE_URL" "$backup/database.dump"

mkdir -p "$media_root"
tar -xzf "$backup/media.tar.gz" -C "$media_root"

echo "restore: database $dbname and media in $media_root restored from $backup"
echo "restore: next, with this DATABASE_URL: python manage.py migrate && python manage.py verify_ledger"
