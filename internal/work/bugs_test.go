package work_test

// The tests in this file fail: each shows a bug found while writing the
// package's tests, reported rather than fixed here. Remove the comment
// when the bug is fixed.

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/storetest"
	"github.com/trellisml/trellis/internal/work"
)

// Bug: ImportCSV calls csv.Reader.FieldPos(0) before it checks Read's
// error; when the first cell of a row is not valid CSV there is no field
// and FieldPos panics (found by FuzzImportCSV).
func TestImportCSVBadFirstCell(t *testing.T) { storetest.Backends(t, testImportCSVBadFirstCell) }

func testImportCSVBadFirstCell(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	for _, csv := range []string{"kind,title\n\"never closed\n", "kind,title\nbare\"quote,x\n"} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("import %q panicked: %v", csv, r)
				}
			}()
			res, err := e.ws.ImportCSV(e.ctx, e.p, strings.NewReader(csv), work.ImportOptions{})
			if err != nil || importRows(res) != "2:" {
				t.Errorf("import %q: %+v %v, want a row error on line 2", csv, res, err)
			}
		}()
	}
}

// Bug: text that is not UTF-8, or holds NUL, passes every field rule;
// SQLite stores it and PostgreSQL refuses it with an internal error, so
// the two backends disagree and a PostgreSQL user sees a 500.
func TestImportCSVNotUTF8(t *testing.T) { storetest.Backends(t, testImportCSVNotUTF8) }

func testImportCSVNotUTF8(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	res, err := e.ws.ImportCSV(e.ctx, e.p, strings.NewReader("kind,title,description\nresearch,fine,ok\nresearch,\xff\xfe,x\nresearch,nul,a\x00b\n"), work.ImportOptions{})
	if err != nil || importRows(res) != "3:title 4:description" {
		t.Errorf("import: %+v %v, want row errors 3:title 4:description", res, err)
	}
	if n := mustCount(t, e); n != 0 {
		t.Errorf("%d items after a refused import", n)
	}
}

// Bug: sprint names are unique as written (the UNIQUE index) but found
// case-insensitively (sprintIn), so "SPRINT 1" can be created beside
// "Sprint 1" and is then unreachable by name.
func TestSprintNamesUniqueInAnyCase(t *testing.T) {
	storetest.Backends(t, testSprintNamesUniqueInAnyCase)
}

func testSprintNamesUniqueInAnyCase(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	mustSprint(t, e, work.NewSprint{Name: "Sprint 1", StartsOn: "2026-03-02", EndsOn: "2026-03-13"})
	_, err := e.ws.CreateSprint(e.ctx, e.p, work.NewSprint{Name: "SPRINT 1", StartsOn: "2026-03-16", EndsOn: "2026-03-27"})
	wantInvalid(t, err, "name")
	mustSprint(t, e, work.NewSprint{Name: "Sprint 2", StartsOn: "2026-03-16", EndsOn: "2026-03-27"})
	_, err = e.ws.UpdateSprint(e.ctx, e.p, "Sprint 2", work.SprintUpdate{Name: ptr("sprint 1")})
	wantInvalid(t, err, "name")
}

// Bug: checkCapacity normalizes names ("@Bob" is bob) into a map, so two
// spellings of one member keep whichever the map iteration reaches last.
func TestCapacityNamesOneMemberTwice(t *testing.T) {
	storetest.Backends(t, testCapacityNamesOneMemberTwice)
}

func testCapacityNamesOneMemberTwice(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	_, err := e.ws.CreateSprint(e.ctx, e.p, work.NewSprint{Name: "S", StartsOn: "2026-03-02", EndsOn: "2026-03-13",
		Capacity: map[string]int{"bob": 3, "@Bob": 5}})
	wantInvalid(t, err, "capacity")
}

// Bug: Decide cuts a long follow-up title at byte 300, which can split a
// character: SQLite stores the broken text, PostgreSQL refuses the whole
// decision.
func TestDecideLongTitleStaysUTF8(t *testing.T) { storetest.Backends(t, testDecideLongTitleStaysUTF8) }

func testDecideLongTitleStaysUTF8(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	// "Productionize: " is 15 bytes; byte 300 falls inside the é.
	exp := newExperiment(t, e, strings.Repeat("a", 284)+"éé", work.NewItem{})
	_, follow, err := e.ws.Decide(e.ctx, e.p, exp.Key, work.DecisionInput{Outcome: "productionize", Verdict: "supported"})
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.ValidString(follow.Title) || follow.Title != "Productionize: "+strings.Repeat("a", 284) {
		t.Errorf("follow-up title %q", follow.Title)
	}
}

// Suspected bug: the ideal line is 0 on the days before the first
// recorded total (a sprint started a day late) and only then jumps up to
// the straight line; it should be the straight line from the start.
func TestBurnIdealBeforeFirstRecord(t *testing.T) {
	sp := &work.Sprint{StartsAt: at("2026-03-02", 0), EndsAt: at("2026-03-06", 23)}
	b := work.BurnOf(sp, []work.SprintDay{{Day: at("2026-03-04", 0), Committed: 12, Done: 5}}, at("2026-03-05", 10))
	if want := []float64{12, 9, 6, 3, 0}; !slices.Equal(b.Ideal, want) {
		t.Errorf("ideal %v, want %v", b.Ideal, want)
	}
}
