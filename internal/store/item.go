package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/work"
)

var _ work.Store = (*DB)(nil)

const itemColumns = `i.id, i.project_id, i.number, i.kind, i.title, i.description, i.status, i.stage, i.rank, i.priority,
	i.parent_id, COALESCE(pi.number, 0), i.phase, i.deliverable, i.time_box, i.hypothesis, i.success_metrics, i.points, i.size,
	i.learning, i.sprint_id, i.started_at, i.done_at, i.created_by, i.created_at, i.updated_at`

const itemFrom = ` FROM items i LEFT JOIN items pi ON pi.id = i.parent_id`

func scanItem(row interface{ Scan(...any) error }) (*work.Item, error) {
	var it work.Item
	var kind string
	var parentID, sprintID sql.NullString
	var parentNum int64
	var started, done, created, updated int64
	if err := row.Scan(&it.ID, &it.ProjectID, &it.Number, &kind, &it.Title, &it.Description, &it.Status, &it.Stage, &it.Rank, &it.Priority,
		&parentID, &parentNum, &it.Phase, &it.Deliverable, &it.TimeBox, &it.Hypothesis, &it.SuccessMetrics, &it.Points, &it.Size,
		&it.Learning, &sprintID, &started, &done, &it.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	it.Kind = work.Kind(kind)
	it.ParentID, it.SprintID = parentID.String, sprintID.String
	if parentNum > 0 {
		it.Parent = strconv.FormatInt(parentNum, 10)
	}
	it.StartedAt, it.DoneAt, it.CreatedAt, it.UpdatedAt = tm(started), tm(done), tm(created), tm(updated)
	return &it, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateItem allocates the next number with one UPSERT ... RETURNING, which
// both SQLite and PostgreSQL execute atomically (PostgreSQL row-locks the
// counter until commit), so concurrent creates never share a key.
func (db *DB) CreateItem(ctx context.Context, it *work.Item) error {
	return db.tx(ctx, func(tx *sql.Tx) error { return createItem(ctx, tx, it) })
}

func createItem(ctx context.Context, tx *sql.Tx, it *work.Item) error {
	if err := tx.QueryRowContext(ctx, `INSERT INTO item_counters (project_id, next) VALUES ($1, 1)
		ON CONFLICT (project_id) DO UPDATE SET next = item_counters.next + 1 RETURNING next`, it.ProjectID).Scan(&it.Number); err != nil {
		return mapErr(err, "Item counter")
	}
	if it.Rank == 0 {
		var top float64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(rank), 0) FROM items WHERE project_id = $1`, it.ProjectID).Scan(&top); err != nil {
			return mapErr(err, "Item")
		}
		it.Rank = top + 1024
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO items (id, project_id, number, kind, title, description, status, stage, rank, priority,
		parent_id, phase, deliverable, time_box, hypothesis, success_metrics, points, size, learning, sprint_id, started_at, done_at,
		created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`,
		it.ID, it.ProjectID, it.Number, string(it.Kind), it.Title, it.Description, it.Status, it.Stage, it.Rank, it.Priority,
		nullable(it.ParentID), it.Phase, it.Deliverable, it.TimeBox, it.Hypothesis, it.SuccessMetrics, it.Points, it.Size, it.Learning,
		nullable(it.SprintID), ms(it.StartedAt), ms(it.DoneAt), it.CreatedBy, ms(it.CreatedAt), ms(it.UpdatedAt)); err != nil {
		return mapErr(err, "Item")
	}
	if err := saveItemSets(ctx, tx, it); err != nil {
		return err
	}
	return insertEvents(ctx, tx, it.ID, []work.ItemEvent{{User: it.CreatedBy, Field: "created", New: it.Title, At: it.CreatedAt}})
}

func saveItemSets(ctx context.Context, tx *sql.Tx, it *work.Item) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM item_assignees WHERE item_id = $1`, it.ID); err != nil {
		return mapErr(err, "Item assignees")
	}
	for _, uid := range it.AssigneeIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO item_assignees (item_id, user_id) VALUES ($1, $2)`, it.ID, uid); err != nil {
			return mapErr(err, "Item assignee")
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM item_dod_checks WHERE item_id = $1`, it.ID); err != nil {
		return mapErr(err, "Item checks")
	}
	for _, c := range it.DoDChecked {
		if _, err := tx.ExecContext(ctx, `INSERT INTO item_dod_checks (item_id, text) VALUES ($1, $2)`, it.ID, c); err != nil {
			return mapErr(err, "Item check")
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM item_labels WHERE item_id = $1`, it.ID); err != nil {
		return mapErr(err, "Item labels")
	}
	for _, l := range it.Labels {
		if _, err := tx.ExecContext(ctx, `INSERT INTO item_labels (item_id, label) VALUES ($1, $2)`, it.ID, l); err != nil {
			return mapErr(err, "Item label")
		}
	}
	return nil
}

func insertEvents(ctx context.Context, tx *sql.Tx, itemID string, evs []work.ItemEvent) error {
	for _, e := range evs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO item_events (item_id, user_name, field, old_value, new_value, at) VALUES ($1, $2, $3, $4, $5, $6)`,
			itemID, e.User, e.Field, e.Old, e.New, ms(e.At)); err != nil {
			return mapErr(err, "Item event")
		}
	}
	return nil
}

// FindItem returns an item by project and number. Errors: ENOTFOUND.
func (db *DB) FindItem(ctx context.Context, projectID string, number int64) (*work.Item, error) {
	it, err := scanItem(db.read.QueryRowContext(ctx, `SELECT `+itemColumns+itemFrom+` WHERE i.project_id = $1 AND i.number = $2`, projectID, number))
	if err != nil {
		return nil, mapErr(err, "Item")
	}
	return it, db.fillOne(ctx, it)
}

// FindItemByID returns an item by id. Errors: ENOTFOUND.
func (db *DB) FindItemByID(ctx context.Context, id string) (*work.Item, error) {
	it, err := scanItem(db.read.QueryRowContext(ctx, `SELECT `+itemColumns+itemFrom+` WHERE i.id = $1`, id))
	if err != nil {
		return nil, mapErr(err, "Item")
	}
	return it, db.fillOne(ctx, it)
}

// fillOne loads a single item's assignees, labels and checked DoD points.
func (db *DB) fillOne(ctx context.Context, it *work.Item) error {
	if err := db.fillItemSets(ctx, []*work.Item{it}, "i.id = $1", it.ID); err != nil {
		return err
	}
	var err error
	it.DoDChecked, err = db.FindDoDChecks(ctx, it.ID)
	return err
}

// likeEscape makes s a literal LIKE pattern fragment.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// itemWhere builds the WHERE clause and arguments of an item filter.
func itemWhere(f work.ItemFilter) (string, []any) {
	where := []string{"i.project_id = $1"}
	args := []any{f.ProjectID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Kind != "" {
		where = append(where, "i.kind = "+arg(string(f.Kind)))
	}
	if f.Status != "" {
		where = append(where, "i.status = "+arg(f.Status))
	}
	if f.Label != "" {
		where = append(where, "EXISTS (SELECT 1 FROM item_labels l WHERE l.item_id = i.id AND l.label = "+arg(strings.ToLower(f.Label))+")")
	}
	if f.Assignee != "" {
		where = append(where, "EXISTS (SELECT 1 FROM item_assignees a JOIN users u ON u.id = a.user_id WHERE a.item_id = i.id AND u.name = "+arg(strings.ToLower(f.Assignee))+")")
	}
	switch f.SprintID {
	case "":
	case "none":
		where = append(where, "i.sprint_id IS NULL")
	default:
		where = append(where, "i.sprint_id = "+arg(f.SprintID))
	}
	if f.ParentID != "" {
		where = append(where, "i.parent_id = "+arg(f.ParentID))
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		p := arg("%" + likeEscape(strings.ToLower(t)) + "%")
		cond := "(LOWER(i.title) LIKE " + p + ` ESCAPE '\' OR LOWER(i.description) LIKE ` + p + ` ESCAPE '\'`
		if n, err := strconv.ParseInt(strings.TrimLeft(t[strings.LastIndex(t, "-")+1:], " "), 10, 64); err == nil {
			cond += " OR i.number = " + arg(n)
		}
		where = append(where, cond+")")
	}
	return strings.Join(where, " AND "), args
}

// CountItems counts the items f selects by status.
func (db *DB) CountItems(ctx context.Context, f work.ItemFilter) (map[string]int, error) {
	where, args := itemWhere(f)
	rows, err := db.read.QueryContext(ctx, `SELECT i.status, COUNT(*) FROM items i WHERE `+where+` GROUP BY i.status`, args...)
	if err != nil {
		return nil, mapErr(err, "Items")
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, mapErr(err, "Items")
		}
		counts[st] = n
	}
	return counts, mapErr(rows.Err(), "Items")
}

// FindItems lists items in rank order.
func (db *DB) FindItems(ctx context.Context, f work.ItemFilter) ([]*work.Item, error) {
	where, args := itemWhere(f)
	limit := f.Limit
	if limit <= 0 {
		limit = work.MaxItems
	}
	q := `SELECT ` + itemColumns + itemFrom + ` WHERE ` + where + ` ORDER BY i.rank, i.number LIMIT ` + strconv.Itoa(limit)
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err, "Items")
	}
	defer rows.Close()
	items := []*work.Item{}
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, mapErr(err, "Items")
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err, "Items")
	}
	if len(items) == 0 {
		return items, nil
	}
	if len(items) <= 500 {
		// A short list: fetch the sets of exactly these items.
		ids := make([]string, len(items))
		args := make([]any, len(items))
		for i, it := range items {
			ids[i], args[i] = "$"+strconv.Itoa(i+1), it.ID
		}
		return items, db.fillItemSets(ctx, items, "i.id IN ("+strings.Join(ids, ", ")+")", args...)
	}
	return items, db.fillItemSets(ctx, items, "i.project_id = $1", f.ProjectID)
}

// fillItemSets loads assignees and labels of items with two queries over
// the scope (one item or the whole project) rather than two per item.
func (db *DB) fillItemSets(ctx context.Context, items []*work.Item, scope string, arg ...any) error {
	byID := make(map[string]*work.Item, len(items))
	for _, it := range items {
		byID[it.ID] = it
		it.Assignees, it.AssigneeIDs, it.Labels = []string{}, []string{}, []string{}
	}
	rows, err := db.read.QueryContext(ctx, `SELECT a.item_id, u.id, u.name FROM item_assignees a JOIN items i ON i.id = a.item_id
		JOIN users u ON u.id = a.user_id WHERE `+scope+` ORDER BY u.name`, arg...)
	if err != nil {
		return mapErr(err, "Item assignees")
	}
	for rows.Next() {
		var id, uid, name string
		if err := rows.Scan(&id, &uid, &name); err != nil {
			rows.Close()
			return mapErr(err, "Item assignees")
		}
		if it := byID[id]; it != nil {
			it.Assignees, it.AssigneeIDs = append(it.Assignees, name), append(it.AssigneeIDs, uid)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapErr(err, "Item assignees")
	}
	rows, err = db.read.QueryContext(ctx, `SELECT l.item_id, l.label FROM item_labels l JOIN items i ON i.id = l.item_id WHERE `+scope+` ORDER BY l.label`, arg...)
	if err != nil {
		return mapErr(err, "Item labels")
	}
	defer rows.Close()
	for rows.Next() {
		var id, label string
		if err := rows.Scan(&id, &label); err != nil {
			return mapErr(err, "Item labels")
		}
		if it := byID[id]; it != nil {
			it.Labels = append(it.Labels, label)
		}
	}
	return mapErr(rows.Err(), "Item labels")
}

// UpdateItem saves an item's mutable fields, sets and events atomically.
func (db *DB) UpdateItem(ctx context.Context, it *work.Item, events []work.ItemEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error { return updateItem(ctx, tx, it, events) })
}

func updateItem(ctx context.Context, tx *sql.Tx, it *work.Item, events []work.ItemEvent) error {
	res, err := tx.ExecContext(ctx, `UPDATE items SET title = $1, description = $2, status = $3, stage = $4, rank = $5, priority = $6,
		parent_id = $7, phase = $8, deliverable = $9, time_box = $10, hypothesis = $11, success_metrics = $12, points = $13, size = $14,
		learning = $15, sprint_id = $16, started_at = $17, done_at = $18, updated_at = $19 WHERE id = $20`,
		it.Title, it.Description, it.Status, it.Stage, it.Rank, it.Priority, nullable(it.ParentID), it.Phase, it.Deliverable, it.TimeBox,
		it.Hypothesis, it.SuccessMetrics, it.Points, it.Size, it.Learning, nullable(it.SprintID), ms(it.StartedAt), ms(it.DoneAt),
		ms(it.UpdatedAt), it.ID)
	if err := affected(res, err, "Item"); err != nil {
		return err
	}
	if err := saveItemSets(ctx, tx, it); err != nil {
		return err
	}
	return insertEvents(ctx, tx, it.ID, events)
}

// FindItemEvents returns an item's history, oldest first.
func (db *DB) FindItemEvents(ctx context.Context, itemID string) ([]*work.ItemEvent, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT user_name, field, old_value, new_value, at FROM item_events WHERE item_id = $1 ORDER BY at, id`, itemID)
	if err != nil {
		return nil, mapErr(err, "Item events")
	}
	defer rows.Close()
	evs := []*work.ItemEvent{}
	for rows.Next() {
		var e work.ItemEvent
		var at int64
		if err := rows.Scan(&e.User, &e.Field, &e.Old, &e.New, &at); err != nil {
			return nil, mapErr(err, "Item events")
		}
		e.At = tm(at)
		evs = append(evs, &e)
	}
	return evs, mapErr(rows.Err(), "Item events")
}
