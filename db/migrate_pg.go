package db

import "embed"

// pgMigrationFS holds the PostgreSQL schema, numbered like the SQLite
// migrations: 0001_schema.sql creates on an empty database the equivalent of
// SQLite schema version 10.
//
//go:embed migrations_pg/*.sql
var pgMigrationFS embed.FS
