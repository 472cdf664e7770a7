package spstore

import (
	"fmt"
	"regexp"
)

// Schema objects. Spanner identifiers are case-insensitive and share one
// namespace for tables and views, so each kind gets a prefix of its own that
// no other kind can start with: a space name never yields a view's or the
// metadata table's name.
const (
	tablePrefix = "s_"            // s_<space>: the rows of a space
	viewPrefix  = "j_"            // j_<space>: the same rows as JSON text, for SQL users
	metaTable   = "dualread_meta" // spstore's own metadata (layout version)

	colKey   = "k"
	colValue = "v"
)

// layoutVersion is stored in metaTable; Open refuses a database written with
// another layout instead of misreading it.
const layoutVersion = "spstore/1"

// maxKey is Spanner's limit on the total size of a row's key columns.
const maxKey = 8192

// spaceName is what store.Store promises about space names.
var spaceName = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)

func checkSpace(space string) error {
	if !spaceName.MatchString(space) {
		return fmt.Errorf("spstore: invalid space name %q (want [a-z0-9_]{1,40})", space)
	}
	return nil
}

func tableFor(space string) string { return tablePrefix + space }
func viewFor(space string) string  { return viewPrefix + space }

// createTableDDL is a space's table. The value is NOT NULL: a present key
// with an empty value must differ from an absent key, and a deleted key is a
// deleted row (Spanner keeps old versions itself, for its own MVCC, so no
// tombstone is needed to order transactions).
func createTableDDL(space string) string {
	return fmt.Sprintf("CREATE TABLE %s (%s BYTES(MAX) NOT NULL, %s BYTES(MAX) NOT NULL) PRIMARY KEY (%s)",
		tableFor(space), colKey, colValue, colKey)
}

// createViewDDL shows a space's rows the way the executor writes them: a
// kind byte ('I' item, 'T' tombstone), an 8-byte version, then the item as
// DynamoDB JSON. SAFE_CONVERT_BYTES_TO_STRING replaces invalid UTF-8 by
// U+FFFD, so a value in another format (the catalog space, say) shows as
// garbage rather than failing the query; DynamoDB JSON is always valid UTF-8.
func createViewDDL(space string) string {
	return fmt.Sprintf(`CREATE OR REPLACE VIEW %s SQL SECURITY INVOKER AS
SELECT t.%s AS k,
  SAFE_CONVERT_BYTES_TO_STRING(SUBSTR(t.%s, 1, 1)) AS kind,
  TO_HEX(SUBSTR(t.%s, 2, 8)) AS version_hex,
  SAFE_CONVERT_BYTES_TO_STRING(SUBSTR(t.%s, 10)) AS item
FROM %s AS t`, viewFor(space), colKey, colValue, colValue, colValue, tableFor(space))
}

func createMetaDDL() string {
	return fmt.Sprintf("CREATE TABLE %s (name STRING(64) NOT NULL, value STRING(MAX) NOT NULL) PRIMARY KEY (name)", metaTable)
}
