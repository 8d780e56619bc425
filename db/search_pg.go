package db

import "fmt"

// PostgreSQL's search index is two tables of tsvectors (search and
// search_public, see migrations_pg) kept by triggers, which a bulk import
// switches off with a row in search_suspended and replaces with one
// rebuild at the end, as on SQLite. GIN indexes need no compaction.

func (e *postgresEngine) suspendSearch(tx *Tx) error {
	_, err := tx.exec("INSERT INTO search_suspended (one) VALUES (1) ON CONFLICT DO NOTHING")
	return err
}

func (e *postgresEngine) rebuildSearch(tx *Tx, changed bool) error {
	if changed {
		if _, err := tx.exec(pgNative + "\nSELECT search_rebuild()"); err != nil {
			return fmt.Errorf("rebuild search index: %w", err)
		}
	}
	_, err := tx.exec("DELETE FROM search_suspended")
	return err
}
