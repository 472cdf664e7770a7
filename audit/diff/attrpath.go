package diff

import "strings"

// AttrPath maps a patch path to the path of the difference inside the item,
// without the item's identity: "/Item/tick/N" (GetItem),
// "/Items/{"S":"a"}/tick/N" (Query, Scan), "/Responses/t/{"S":"a"}/tick/N"
// (BatchGetItem) and "/Responses/0/Item/tick/N" (TransactGetItems) are all
// "/tick/N". The noise calibration counts differences per table and
// AttrPath, so that what it learns from any read of any item of a table
// applies to all of them.
//
// ok is false for paths that do not lie inside one item: a whole item
// added or removed, Count, ScannedCount, ItemOrder, an error. Those are
// never taken for noise.
func AttrPath(op, p string) (attr string, ok bool) {
	segs := strings.Split(p, "/")[1:]
	skip := 0
	switch {
	case op == "GetItem" && len(segs) > 0 && segs[0] == "Item":
		skip = 1
	case (op == "Query" || op == "Scan") && len(segs) > 0 && segs[0] == "Items":
		skip = 2
	case op == "BatchGetItem" && len(segs) > 0 && segs[0] == "Responses":
		skip = 3
	case op == "TransactGetItems" && len(segs) > 2 && segs[0] == "Responses" && segs[2] == "Item":
		skip = 3
	default:
		return "", false
	}
	if len(segs) <= skip {
		return "", false
	}
	return "/" + strings.Join(segs[skip:], "/"), true
}
