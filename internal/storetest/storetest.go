// Package storetest is the conformance suite every store backend must pass.
// It drives the store through the capability services, so it checks the
// behaviour users rely on (conflicts, atomicity, visibility), not SQL text.
package storetest

import (
	"context"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/trellis"
)

// FastHash is a cheap argon2id cost for tests; production uses
// auth.DefaultHashParams.
var FastHash = auth.HashParams{Memory: 64, Time: 1, Threads: 1}

// Open returns a fresh, migrated, empty store for one test.
type Open func(tb testing.TB) *store.DB

// Run runs the whole suite against the backend that open returns.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(*testing.T, *store.DB)
	}{
		{"Schema", testSchema},
		{"Users", testUsers},
		{"FirstUserIsAtomic", testFirstUserIsAtomic},
		{"Sessions", testSessions},
		{"Tokens", testTokens},
		{"LoginThrottle", testLoginThrottle},
		{"LoginCeiling", testLoginCeiling},
		{"LoginBurst", testLoginBurst},
		{"TokensAcrossDisable", testTokensAcrossDisable},
		{"PasswordChangeTokens", testPasswordChangeTokens},
		{"Projects", testProjects},
		{"Members", testMembers},
		{"Items", testItems},
		{"ItemKeysConcurrent", testItemKeysConcurrent},
		{"WorkflowAndPlanning", testWorkflowAndPlanning},
		{"Sprints", testSprints},
		{"Decisions", testDecisions},
		{"Demo", testDemo},
		{"Burn", testBurn},
		{"Comments", testComments},
		{"Templates", testTemplates},
		{"ImportCSV", testImportCSV},
		{"Search", testSearch},
		{"Bulk", testBulk},
		{"SavedFilters", testSavedFilters},
		{"TrackingExperiments", testTrackingExperiments},
		{"TrackingRuns", testTrackingRuns},
		{"TrackingHistoryPaging", testTrackingHistoryPaging},
		{"TrackingSearch", testTrackingSearch},
		{"TrackingSearchByMetric", testTrackingSearchByMetric},
		{"TrackingConcurrentBatches", testTrackingConcurrentBatches},
		{"RunFinishedHook", testRunFinishedHook},
		{"Specs", testSpecs},
		{"TrackingInputs", testTrackingInputs},
		{"TrackingSearchDatasets", testTrackingSearchDatasets},
		{"TrackingArtifactLocation", testTrackingArtifactLocation},
		{"TrackingChildRuns", testTrackingChildRuns},
		{"Goals", testGoals},
		{"GoalsLatestRandom", testGoalsLatestRandom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := trellis.ErrorCode(err); got != code {
		tb.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func must[T any](tb testing.TB) func(T, error) T {
	return func(v T, err error) T {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
}

// As returns ctx acting as user u with full write rights.
func As(ctx context.Context, u *auth.User) context.Context {
	return auth.NewContext(ctx, &auth.Principal{User: u, Scope: auth.ScopeWrite})
}

const pw = "a long enough test password"

func testSchema(t *testing.T, db *store.DB) {
	ctx := context.Background()
	current, known, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if current != known || known < 1 {
		t.Fatalf("schema at %d, binary knows %d", current, known)
	}
	if n, err := db.Migrate(ctx); err != nil || n != 0 {
		t.Fatalf("second migrate ran %d migrations, err %v", n, err)
	}
	if err := db.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}
