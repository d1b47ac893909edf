#!/usr/bin/env bash
# Back up p2pcommons: the PostgreSQL database (pg_dump custom format) and the uploaded
# files (a tar of MEDIA_ROOT), into a new dated folder. docs/operations.md says how to run
# it (also inside docker-compose) and how scripts/restore.sh brings a backup back.
#
#   DATABASE_URL=postgres://user:password@host:5432/name MEDIA_ROOT=/app/var/media \
#     scripts/backup.sh [BACKUP_ROOT]          # default BACKUP_ROOT: $BACKUP_DIR or var/backups
#
# Prints the folder it wrote: database.dump, media.tar.gz, SHA256SUMS, manifest.txt.
# pg_dump takes one consistent snapshot, so the site can keep running meanwhile. Members'
# data exports (EXPORT_ROOT) are not backed up: they are rebuilt on request and expire.
set -euo pipefail
umask 077  # a backup holds everything: readable by its owner only

die() { echo "backup: $*" >&2; exit 1; }

[ -n "${DATABASE_URL:-}" ] || die "set DATABASE_URL (the PostgreSQL database to back up)"
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  pgsql://* | psql://*) DATABASE_URL="postgresql://${DATABASE_URL#*://}" ;;
  *) die "DATABASE_URL is not a PostgreSQL URL; this script backs up PostgreSQL only" ;;
esac
command -v pg_dump >/dev/null || die "pg_dump is not installed (apt-get install postgresql-client)"

media_root="${MEDIA_ROOT:-var/media}"
backup_root="${1:-${BACKUP_DIR:-var/backups}}"
stamp="$(date -u +%Y-%m-%dT%H%M%SZ)"
dest="$backup_root/$stamp"
[ ! -e "$dest" ] || die "$dest exists already"
mkdir -p "$dest"
# A failed backup leaves no folder that could be taken for a good one.
trap 'rm -rf "$dest"' ERR

pg_dump --format=custom --compress=6 --no-password --file="$dest/database.dump" --dbname="$DATABASE_URL"

if [ -d "$media_root" ]; then
  tar -czf "$dest/media.tar.gz" -C "$media_root" .
else
  echo "backup: no media folder at $media_root; the backup holds no uploaded files" >&2
  tar -czf "$dest/media.tar.gz" -T /dev/null
fi

(cd "$dest" && sha256sum database.dump media.tar.gz > SHA256SUMS)
{
  echo "created_utc: $stamp"
  echo "pg_dump: $(pg_dump --version)"
  echo "media_files: $(tar -tzf "$dest/media.tar.gz" | grep -vc '/$' || true)"
} > "$dest/manifest.txt"
trap - ERR
echo "$dest"
