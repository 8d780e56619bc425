package db

import (
	"fmt"
	"regexp"
	"strings"
)

// urlScheme matches the scheme of a URL given as a database ("mysql://…").
var urlScheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// keywordDSNKeys are libpq's connection keywords that a keyword/value
// connection string ("host=db user=trendql password=…") starts with.
var keywordDSNKeys = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "password": true,
	"passfile": true, "sslmode": true, "connect_timeout": true, "application_name": true, "service": true,
}

// CheckDSN refuses what is neither an SQLite file path nor a postgres://
// URL but looks like another way of naming a database: taken as a file
// name, it would create a file of that name, and messages naming the file
// would repeat the password it may hold. The refusal names neither. Open
// calls it; a command that looks at a file before opening it calls it
// first.
func CheckDSN(dsn string) error {
	if m := urlScheme.FindStringSubmatch(dsn); m != nil && !IsPostgresURL(dsn) {
		return fmt.Errorf("the database %s://… is a URL of a kind trendql does not use: give an SQLite file path or a postgres:// URL", m[1])
	}
	fields := strings.Fields(dsn)
	if len(fields) == 0 {
		return nil
	}
	for _, f := range fields {
		if !strings.Contains(f, "=") {
			return nil
		}
	}
	if key, _, _ := strings.Cut(fields[0], "="); keywordDSNKeys[strings.ToLower(key)] {
		return fmt.Errorf("the database looks like a PostgreSQL keyword/value connection string (%s=…): give it as a postgres:// URL", strings.ToLower(key))
	}
	return nil
}
