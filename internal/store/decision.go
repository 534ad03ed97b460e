package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"

	"github.com/trellisml/trellis/internal/work"
)

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
