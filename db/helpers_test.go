package db_test

import (
	"database/sql"

	_ "modernc.org/sqlite"
)

func makeForeignSQLite(path string) error {
	d, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer d.Close()
	_, err = d.Exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('hi')")
	return err
}
