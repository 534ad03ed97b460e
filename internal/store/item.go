package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
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

// AddLink inserts a link; an existing one is ECONFLICT.
func (db *DB) AddLink(ctx context.Context, fromID, toID, typ string) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO item_links (from_id, to_id, type) VALUES ($1, $2, $3)`, fromID, toID, typ)
	return mapErr(err, "Link")
}

// RemoveLink deletes a link. Errors: ENOTFOUND.
func (db *DB) RemoveLink(ctx context.Context, fromID, toID, typ string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM item_links WHERE from_id = $1 AND to_id = $2 AND type = $3`, fromID, toID, typ)
	return affected(res, err, "Link")
}

// FindLinks returns an item's links both ways; Key holds the other item's
// number, which the service turns into a key.
func (db *DB) FindLinks(ctx context.Context, itemID string) ([]work.Link, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT l.type, o.number, o.title, 'out' FROM item_links l JOIN items o ON o.id = l.to_id WHERE l.from_id = $1
		UNION ALL SELECT l.type, o.number, o.title, 'in' FROM item_links l JOIN items o ON o.id = l.from_id WHERE l.to_id = $1
		ORDER BY 1, 2`, itemID)
	if err != nil {
		return nil, mapErr(err, "Links")
	}
	defer rows.Close()
	links := []work.Link{}
	for rows.Next() {
		var l work.Link
		var n int64
		if err := rows.Scan(&l.Type, &n, &l.Title, &l.Direction); err != nil {
			return nil, mapErr(err, "Links")
		}
		l.Key = strconv.FormatInt(n, 10)
		links = append(links, l)
	}
	return links, mapErr(rows.Err(), "Links")
}

// FindStatuses returns a project's stored workflow in order.
func (db *DB) FindStatuses(ctx context.Context, projectID string) ([]work.Status, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT name, category, wip_limit FROM item_statuses WHERE project_id = $1 ORDER BY position`, projectID)
	if err != nil {
		return nil, mapErr(err, "Statuses")
	}
	defer rows.Close()
	var ss []work.Status
	for rows.Next() {
		var s work.Status
		if err := rows.Scan(&s.Name, &s.Category, &s.WIPLimit); err != nil {
			return nil, mapErr(err, "Statuses")
		}
		ss = append(ss, s)
	}
	return ss, mapErr(rows.Err(), "Statuses")
}

// SetStatuses replaces a project's workflow atomically.
func (db *DB) SetStatuses(ctx context.Context, projectID string, ss []work.Status) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM item_statuses WHERE project_id = $1`, projectID); err != nil {
			return mapErr(err, "Statuses")
		}
		for i, s := range ss {
			if _, err := tx.ExecContext(ctx, `INSERT INTO item_statuses (project_id, name, position, category, wip_limit) VALUES ($1, $2, $3, $4, $5)`,
				projectID, s.Name, i, s.Category, s.WIPLimit); err != nil {
				return mapErr(err, "Status")
			}
		}
		return nil
	})
}

// FindPlanning returns a project's planning settings, or the defaults.
func (db *DB) FindPlanning(ctx context.Context, projectID string) (work.Planning, error) {
	p := work.DefaultPlanning
	err := db.read.QueryRowContext(ctx, `SELECT point_scale, alloc_committed, alloc_experiments, alloc_learning FROM planning_settings WHERE project_id = $1`,
		projectID).Scan(&p.PointScale, &p.Allocation.Committed, &p.Allocation.Experiments, &p.Allocation.Learning)
	if err == sql.ErrNoRows {
		return work.DefaultPlanning, nil
	}
	return p, mapErr(err, "Planning settings")
}

// SetPlanning saves a project's planning settings.
func (db *DB) SetPlanning(ctx context.Context, projectID string, p work.Planning) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO planning_settings (project_id, point_scale, alloc_committed, alloc_experiments, alloc_learning)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id) DO UPDATE SET point_scale = excluded.point_scale,
		alloc_committed = excluded.alloc_committed, alloc_experiments = excluded.alloc_experiments, alloc_learning = excluded.alloc_learning`,
		projectID, p.PointScale, p.Allocation.Committed, p.Allocation.Experiments, p.Allocation.Learning)
	return mapErr(err, "Planning settings")
}

const sprintColumns = `id, project_id, name, goal, starts_at, ends_at, state, capacity, snapshot, created_at`

func scanSprint(row interface{ Scan(...any) error }) (*work.Sprint, error) {
	var sp work.Sprint
	var starts, ends, created int64
	var capacity, snapshot string
	if err := row.Scan(&sp.ID, &sp.ProjectID, &sp.Name, &sp.Goal, &starts, &ends, &sp.State, &capacity, &snapshot, &created); err != nil {
		return nil, err
	}
	sp.StartsAt, sp.EndsAt, sp.CreatedAt = tm(starts), tm(ends), tm(created)
	sp.Capacity = map[string]int{}
	if err := json.Unmarshal([]byte(capacity), &sp.Capacity); err != nil {
		return nil, err
	}
	if snapshot != "" {
		sp.Snapshot = &work.SprintSnapshot{}
		if err := json.Unmarshal([]byte(snapshot), sp.Snapshot); err != nil {
			return nil, err
		}
	}
	return &sp, nil
}

func sprintJSON(sp *work.Sprint) (string, string) {
	c, _ := json.Marshal(sp.Capacity)
	if sp.Snapshot == nil {
		return string(c), ""
	}
	s, _ := json.Marshal(sp.Snapshot)
	return string(c), string(s)
}

// CreateSprint inserts a sprint; a taken name is ECONFLICT.
func (db *DB) CreateSprint(ctx context.Context, sp *work.Sprint) error {
	c, s := sprintJSON(sp)
	_, err := db.write.ExecContext(ctx, `INSERT INTO sprints (`+sprintColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		sp.ID, sp.ProjectID, sp.Name, sp.Goal, ms(sp.StartsAt), ms(sp.EndsAt), sp.State, c, s, ms(sp.CreatedAt))
	return mapErr(err, "Sprint")
}

// FindSprint returns a sprint of a project. Errors: ENOTFOUND.
func (db *DB) FindSprint(ctx context.Context, projectID, id string) (*work.Sprint, error) {
	sp, err := scanSprint(db.read.QueryRowContext(ctx, `SELECT `+sprintColumns+` FROM sprints WHERE project_id = $1 AND id = $2`, projectID, id))
	return sp, mapErr(err, "Sprint")
}

// FindSprints lists a project's sprints by start date.
func (db *DB) FindSprints(ctx context.Context, projectID string) ([]*work.Sprint, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+sprintColumns+` FROM sprints WHERE project_id = $1 ORDER BY starts_at, name`, projectID)
	if err != nil {
		return nil, mapErr(err, "Sprints")
	}
	defer rows.Close()
	sps := []*work.Sprint{}
	for rows.Next() {
		sp, err := scanSprint(rows)
		if err != nil {
			return nil, mapErr(err, "Sprints")
		}
		sps = append(sps, sp)
	}
	return sps, mapErr(rows.Err(), "Sprints")
}

// UpdateSprint saves a sprint's mutable fields.
func (db *DB) UpdateSprint(ctx context.Context, sp *work.Sprint) error {
	c, s := sprintJSON(sp)
	res, err := db.write.ExecContext(ctx, `UPDATE sprints SET name = $1, goal = $2, state = $3, capacity = $4, snapshot = $5 WHERE id = $6`,
		sp.Name, sp.Goal, sp.State, c, s, sp.ID)
	return affected(res, err, "Sprint")
}

// CloseSprint saves the closed sprint and moves unfinished items in one
// transaction, so a close is never half done.
func (db *DB) CloseSprint(ctx context.Context, sp *work.Sprint, unfinished []string, nextID string) error {
	c, s := sprintJSON(sp)
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sprints SET state = $1, capacity = $2, snapshot = $3 WHERE id = $4 AND state = 'active'`, sp.State, c, s, sp.ID)
		if err := affected(res, err, "Active sprint"); err != nil {
			if trellis.ErrorCode(err) == trellis.ENOTFOUND {
				return trellis.Errorf(trellis.ECONFLICT, "Sprint %q is no longer active.", sp.Name)
			}
			return err
		}
		for _, id := range unfinished {
			if _, err := tx.ExecContext(ctx, `UPDATE items SET sprint_id = $1 WHERE id = $2`, nullable(nextID), id); err != nil {
				return mapErr(err, "Item")
			}
		}
		return nil
	})
}

// Decide records a decision, saves the decided item and creates the
// follow-up with its link in one transaction.
func (db *DB) Decide(ctx context.Context, it *work.Item, events []work.ItemEvent, dec *work.Decision, followUp *work.Item) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if followUp != nil {
			if err := createItem(ctx, tx, followUp); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO item_links (from_id, to_id, type) VALUES ($1, $2, 'follow_up_of')`, followUp.ID, it.ID); err != nil {
				return mapErr(err, "Link")
			}
		}
		ev, _ := json.Marshal(dec.Evidence)
		if _, err := tx.ExecContext(ctx, `INSERT INTO item_decisions (item_id, outcome, verdict, reason, evidence, follow_up_id, decided_by, decided_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, dec.ItemID, dec.Outcome, dec.Verdict, dec.Reason, string(ev), nullable(dec.FollowUpID),
			dec.DecidedBy, ms(dec.DecidedAt)); err != nil {
			return mapErr(err, "Decision")
		}
		return updateItem(ctx, tx, it, events)
	})
}

const decisionQuery = `SELECT d.item_id, i.number, i.title, i.hypothesis, d.outcome, d.verdict, d.reason, d.evidence,
	COALESCE(d.follow_up_id, ''), COALESCE(f.number, 0), d.decided_by, d.decided_at
	FROM item_decisions d JOIN items i ON i.id = d.item_id LEFT JOIN items f ON f.id = d.follow_up_id`

func scanDecision(row interface{ Scan(...any) error }) (*work.Decision, error) {
	var d work.Decision
	var num, fnum, at int64
	var ev string
	if err := row.Scan(&d.ItemID, &num, &d.Title, &d.Hypothesis, &d.Outcome, &d.Verdict, &d.Reason, &ev, &d.FollowUpID, &fnum, &d.DecidedBy, &at); err != nil {
		return nil, err
	}
	d.Item, d.DecidedAt = strconv.FormatInt(num, 10), tm(at)
	if fnum > 0 {
		d.FollowUp = strconv.FormatInt(fnum, 10)
	}
	d.Evidence = []string{}
	if err := json.Unmarshal([]byte(ev), &d.Evidence); err != nil {
		return nil, err
	}
	return &d, nil
}

// FindDecision returns the decision on an item. Errors: ENOTFOUND.
func (db *DB) FindDecision(ctx context.Context, itemID string) (*work.Decision, error) {
	d, err := scanDecision(db.read.QueryRowContext(ctx, decisionQuery+` WHERE d.item_id = $1`, itemID))
	return d, mapErr(err, "Decision")
}

// FindDecisions lists a project's decisions, newest first.
func (db *DB) FindDecisions(ctx context.Context, projectID string) ([]*work.Decision, error) {
	rows, err := db.read.QueryContext(ctx, decisionQuery+` WHERE i.project_id = $1 ORDER BY d.decided_at DESC, i.number DESC`, projectID)
	if err != nil {
		return nil, mapErr(err, "Decisions")
	}
	defer rows.Close()
	ds := []*work.Decision{}
	for rows.Next() {
		d, err := scanDecision(rows)
		if err != nil {
			return nil, mapErr(err, "Decisions")
		}
		ds = append(ds, d)
	}
	return ds, mapErr(rows.Err(), "Decisions")
}

// RecordSprintDay upserts a sprint's totals for a day (ms of its midnight UTC).
func (db *DB) RecordSprintDay(ctx context.Context, sprintID string, day time.Time, committed, done int) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO sprint_days (sprint_id, day, committed, done) VALUES ($1, $2, $3, $4)
		ON CONFLICT (sprint_id, day) DO UPDATE SET committed = excluded.committed, done = excluded.done`, sprintID, ms(day), committed, done)
	return mapErr(err, "Sprint day")
}

// FindSprintDays returns a sprint's recorded days in order.
func (db *DB) FindSprintDays(ctx context.Context, sprintID string) ([]work.SprintDay, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT day, committed, done FROM sprint_days WHERE sprint_id = $1 ORDER BY day`, sprintID)
	if err != nil {
		return nil, mapErr(err, "Sprint days")
	}
	defer rows.Close()
	days := []work.SprintDay{}
	for rows.Next() {
		var d work.SprintDay
		var day int64
		if err := rows.Scan(&day, &d.Committed, &d.Done); err != nil {
			return nil, mapErr(err, "Sprint days")
		}
		d.Day = tm(day)
		days = append(days, d)
	}
	return days, mapErr(rows.Err(), "Sprint days")
}

// FindDoD returns a project's Definition of Done points by kind.
func (db *DB) FindDoD(ctx context.Context, projectID string) (map[work.Kind][]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT kind, text FROM dod_points WHERE project_id = $1 ORDER BY kind, position`, projectID)
	if err != nil {
		return nil, mapErr(err, "Definition of Done")
	}
	defer rows.Close()
	dod := map[work.Kind][]string{}
	for rows.Next() {
		var k, text string
		if err := rows.Scan(&k, &text); err != nil {
			return nil, mapErr(err, "Definition of Done")
		}
		dod[work.Kind(k)] = append(dod[work.Kind(k)], text)
	}
	return dod, mapErr(rows.Err(), "Definition of Done")
}

// SetDoD replaces the Definition of Done of one kind in a project.
func (db *DB) SetDoD(ctx context.Context, projectID string, kind work.Kind, points []string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM dod_points WHERE project_id = $1 AND kind = $2`, projectID, string(kind)); err != nil {
			return mapErr(err, "Definition of Done")
		}
		for i, p := range points {
			if _, err := tx.ExecContext(ctx, `INSERT INTO dod_points (project_id, kind, position, text) VALUES ($1, $2, $3, $4)`, projectID, string(kind), i, p); err != nil {
				return mapErr(err, "Definition of Done")
			}
		}
		return nil
	})
}

// FindDoDChecks returns the DoD points checked on an item.
func (db *DB) FindDoDChecks(ctx context.Context, itemID string) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT text FROM item_dod_checks WHERE item_id = $1 ORDER BY text`, itemID)
	if err != nil {
		return nil, mapErr(err, "Checks")
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, mapErr(err, "Checks")
		}
		out = append(out, t)
	}
	return out, mapErr(rows.Err(), "Checks")
}

// AddComment inserts a comment with its event and notifications atomically.
func (db *DB) AddComment(ctx context.Context, c *work.Comment, notes []*work.Notification) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO item_comments (id, item_id, author, body, created_at) VALUES ($1, $2, $3, $4, $5)`,
			c.ID, c.ItemID, c.Author, c.Body, ms(c.CreatedAt)); err != nil {
			return mapErr(err, "Comment")
		}
		for _, n := range notes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO inbox (id, user_id, item_id, actor, text, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
				n.ID, n.UserID, n.ItemID, n.Actor, n.Text, ms(n.CreatedAt)); err != nil {
				return mapErr(err, "Notification")
			}
		}
		excerpt := c.Body
		if len(excerpt) > 200 {
			excerpt = excerpt[:200] + "…"
		}
		return insertEvents(ctx, tx, c.ItemID, []work.ItemEvent{{User: c.Author, Field: "comment", New: excerpt, At: c.CreatedAt}})
	})
}

// FindComments lists an item's comments, oldest first.
func (db *DB) FindComments(ctx context.Context, itemID string) ([]*work.Comment, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, item_id, author, body, created_at FROM item_comments WHERE item_id = $1 ORDER BY created_at, id`, itemID)
	if err != nil {
		return nil, mapErr(err, "Comments")
	}
	defer rows.Close()
	cs := []*work.Comment{}
	for rows.Next() {
		var c work.Comment
		var at int64
		if err := rows.Scan(&c.ID, &c.ItemID, &c.Author, &c.Body, &at); err != nil {
			return nil, mapErr(err, "Comments")
		}
		c.CreatedAt = tm(at)
		cs = append(cs, &c)
	}
	return cs, mapErr(rows.Err(), "Comments")
}

// FindInbox returns a user's notifications, newest first.
func (db *DB) FindInbox(ctx context.Context, userID string, limit int) ([]*work.Notification, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT n.id, n.item_id, p.key, i.number, i.title, n.actor, n.text, n.created_at, n.read_at
		FROM inbox n JOIN items i ON i.id = n.item_id JOIN projects p ON p.id = i.project_id
		WHERE n.user_id = $1 ORDER BY n.created_at DESC, n.id DESC LIMIT `+strconv.Itoa(limit), userID)
	if err != nil {
		return nil, mapErr(err, "Inbox")
	}
	defer rows.Close()
	ns := []*work.Notification{}
	for rows.Next() {
		var n work.Notification
		var num, at, read int64
		if err := rows.Scan(&n.ID, &n.ItemID, &n.Project, &num, &n.Title, &n.Actor, &n.Text, &at, &read); err != nil {
			return nil, mapErr(err, "Inbox")
		}
		n.UserID, n.Item, n.CreatedAt, n.Read = userID, project.ItemKey(n.Project, num), tm(at), read != 0
		ns = append(ns, &n)
	}
	return ns, mapErr(rows.Err(), "Inbox")
}

// MarkRead marks every unread notification of a user read.
func (db *DB) MarkRead(ctx context.Context, userID string, at time.Time) error {
	_, err := db.write.ExecContext(ctx, `UPDATE inbox SET read_at = $1 WHERE user_id = $2 AND read_at = 0`, ms(at), userID)
	return mapErr(err, "Inbox")
}

// FindActivity returns a project's latest item events.
func (db *DB) FindActivity(ctx context.Context, projectID string, limit int) ([]*work.Activity, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT i.number, i.title, e.user_name, e.field, e.old_value, e.new_value, e.at
		FROM item_events e JOIN items i ON i.id = e.item_id WHERE i.project_id = $1 ORDER BY e.at DESC, e.id DESC LIMIT `+strconv.Itoa(limit), projectID)
	if err != nil {
		return nil, mapErr(err, "Activity")
	}
	defer rows.Close()
	as := []*work.Activity{}
	for rows.Next() {
		var a work.Activity
		var num, at int64
		if err := rows.Scan(&num, &a.Title, &a.User, &a.Field, &a.Old, &a.New, &at); err != nil {
			return nil, mapErr(err, "Activity")
		}
		a.Item, a.At = strconv.FormatInt(num, 10), tm(at)
		as = append(as, &a)
	}
	return as, mapErr(rows.Err(), "Activity")
}

// FindTemplates lists a project's own templates by name.
func (db *DB) FindTemplates(ctx context.Context, projectID string) ([]work.Template, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT name, kind, title, description, subtasks FROM item_templates WHERE project_id = $1 ORDER BY name`, projectID)
	if err != nil {
		return nil, mapErr(err, "Templates")
	}
	defer rows.Close()
	ts := []work.Template{}
	for rows.Next() {
		var t work.Template
		var kind, subs string
		if err := rows.Scan(&t.Name, &kind, &t.Title, &t.Description, &subs); err != nil {
			return nil, mapErr(err, "Templates")
		}
		t.Kind = work.Kind(kind)
		if err := json.Unmarshal([]byte(subs), &t.SubTasks); err != nil {
			return nil, fmt.Errorf("template %s: %w", t.Name, err)
		}
		ts = append(ts, t)
	}
	return ts, mapErr(rows.Err(), "Templates")
}

// SaveTemplate inserts or replaces a template by name.
func (db *DB) SaveTemplate(ctx context.Context, projectID string, t work.Template) error {
	subs, _ := json.Marshal(t.SubTasks)
	_, err := db.write.ExecContext(ctx, `INSERT INTO item_templates (project_id, name, kind, title, description, subtasks) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (project_id, name) DO UPDATE SET kind = excluded.kind, title = excluded.title, description = excluded.description, subtasks = excluded.subtasks`,
		projectID, t.Name, string(t.Kind), t.Title, t.Description, string(subs))
	return mapErr(err, "Template")
}

// CreateItems inserts items in order in one transaction: all or none.
func (db *DB) CreateItems(ctx context.Context, items []*work.Item) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		for _, it := range items {
			if err := createItem(ctx, tx, it); err != nil {
				return err
			}
		}
		return nil
	})
}

// ftsQuery turns user text into an FTS5 query: every word must match, as a
// prefix, and no user character is FTS syntax.
func ftsQuery(text string) string {
	var parts []string
	for _, w := range strings.Fields(text) {
		parts = append(parts, `"`+strings.ReplaceAll(w, `"`, `""`)+`"*`)
	}
	return strings.Join(parts, " ")
}

// SearchItems finds a project's items whose title, description or comments
// hold every word of text, best match first: FTS5 on SQLite, tsvector on
// PostgreSQL.
func (db *DB) SearchItems(ctx context.Context, projectID, text string, limit int) ([]*work.Item, error) {
	var rows *sql.Rows
	var err error
	if db.dialect == Postgres {
		var words []string
		for _, w := range strings.Fields(text) {
			w = strings.Map(func(r rune) rune {
				if strings.ContainsRune(`&|!():*'\<>`, r) {
					return -1
				}
				return r
			}, w)
			if w != "" {
				words = append(words, w+":*")
			}
		}
		if len(words) == 0 {
			return []*work.Item{}, nil
		}
		rows, err = db.read.QueryContext(ctx, `SELECT `+itemColumns+itemFrom+`
			WHERE i.project_id = $1 AND (to_tsvector('simple', i.title || ' ' || i.description) @@ to_tsquery('simple', $2)
			   OR EXISTS (SELECT 1 FROM item_comments c WHERE c.item_id = i.id AND to_tsvector('simple', c.body) @@ to_tsquery('simple', $2)))
			ORDER BY ts_rank(to_tsvector('simple', i.title || ' ' || i.description), to_tsquery('simple', $2)) DESC, i.number DESC
			LIMIT `+strconv.Itoa(limit), projectID, strings.Join(words, " & "))
	} else {
		q := ftsQuery(text)
		if q == "" {
			return []*work.Item{}, nil
		}
		rows, err = db.read.QueryContext(ctx, `SELECT `+itemColumns+` FROM items_fts f JOIN items i ON i.rowid = f.rowid
			LEFT JOIN items pi ON pi.id = i.parent_id
			WHERE items_fts MATCH $1 AND i.project_id = $2 ORDER BY f.rank, i.number DESC LIMIT `+strconv.Itoa(limit), q, projectID)
	}
	if err != nil {
		return nil, mapErr(err, "Search")
	}
	defer rows.Close()
	items := []*work.Item{}
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, mapErr(err, "Search")
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err, "Search")
	}
	if len(items) == 0 {
		return items, nil
	}
	return items, db.fillItemSets(ctx, items, "i.project_id = $1", projectID)
}

// UpdateItems saves several items and their events in one transaction.
func (db *DB) UpdateItems(ctx context.Context, items []*work.Item, events [][]work.ItemEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		for i, it := range items {
			if err := updateItem(ctx, tx, it, events[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// FindFilters lists a user's saved filters in a project by name.
func (db *DB) FindFilters(ctx context.Context, projectID, userID string) ([]work.SavedFilter, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT name, query FROM saved_filters WHERE project_id = $1 AND user_id = $2 ORDER BY name`, projectID, userID)
	if err != nil {
		return nil, mapErr(err, "Filters")
	}
	defer rows.Close()
	fs := []work.SavedFilter{}
	for rows.Next() {
		var f work.SavedFilter
		if err := rows.Scan(&f.Name, &f.Query); err != nil {
			return nil, mapErr(err, "Filters")
		}
		fs = append(fs, f)
	}
	return fs, mapErr(rows.Err(), "Filters")
}

// SaveFilter inserts or replaces a saved filter.
func (db *DB) SaveFilter(ctx context.Context, projectID, userID string, f work.SavedFilter) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO saved_filters (project_id, user_id, name, query) VALUES ($1, $2, $3, $4)
		ON CONFLICT (project_id, user_id, name) DO UPDATE SET query = excluded.query`, projectID, userID, f.Name, f.Query)
	return mapErr(err, "Filter")
}

// DeleteFilter deletes a saved filter. Errors: ENOTFOUND.
func (db *DB) DeleteFilter(ctx context.Context, projectID, userID, name string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM saved_filters WHERE project_id = $1 AND user_id = $2 AND name = $3`, projectID, userID, name)
	return affected(res, err, "Filter")
}
