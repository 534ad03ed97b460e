package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
)

// TestBadBodiesAre4xx sends malformed JSON, wrong types, empty and oversized
// bodies to every /api/v1 route that takes a body.
func TestBadBodiesAre4xx(t *testing.T) { apptest.Backends(t, testBadBodiesAre4xx) }

func testBadBodiesAre4xx(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	noBody := map[string]bool{"/api/v1/projects/{key}/archive": true, "/api/v1/projects/{key}/unarchive": true}
	wrongTypes := `{"name":1,"key":[],"role":5,"disabled":"x","scope":3,"description":false,"archived":"y","expires":9,"password":1,"admin":"no"}`
	bodies := map[string]string{
		"malformed":   `{"name": "x",`,
		"garbage":     "\x00\xff not json",
		"wrong types": wrongTypes,
		"array":       `[1,2]`,
		"string":      `"hello"`,
		"empty":       "",
		"trailing":    `{} {}`,
		"unknown":     `{"zzz": 1}`,
		"oversized":   `{"name":"` + strings.Repeat("a", 2<<20) + `"}`,
	}
	tested := 0
	for _, rt := range a.Server.Routes() {
		if rt.Surface != "api" || (rt.Method != "POST" && rt.Method != "PUT" && rt.Method != "PATCH") || noBody[rt.Pattern] {
			continue
		}
		tested++
		for name, body := range bodies {
			status, b := a.Do("root", rt.Method, apptest.Concrete(rt.Pattern), strings.NewReader(body), "Content-Type", "application/json")
			if status < 400 || status >= 500 {
				t.Errorf("%s %s with %s body = %d, want 4xx: %.200s", rt.Method, rt.Pattern, name, status, b)
				continue
			}
			var eb struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
				t.Errorf("%s %s with %s body: error body %.200s", rt.Method, rt.Pattern, name, b)
			}
		}
	}
	if tested < 6 {
		t.Fatalf("only %d body-taking routes found", tested)
	}
	// The field is named for a wrong type.
	a.Check(t, []apptest.Case{{Name: "wrong type", User: "root", Method: "POST", Path: "/api/v1/projects", Body: `{"key":5,"name":"x"}`, Status: 400, Field: "key"}})
}
