package db

// SetBulkImportRecords sets the size from which an import takes the bulk
// path, for tests that compare it with the per-record path; it returns a
// function that restores the size.
func SetBulkImportRecords(n int) (restore func()) {
	old := bulkImportRecords
	bulkImportRecords = n
	return func() { bulkImportRecords = old }
}
