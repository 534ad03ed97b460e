package apptest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Case is one request of a scenario table and the answer it must get.
type Case struct {
	// Name says what the case shows; "" names the request.
	Name string
	// User is the fixture user sending it, "" anonymous.
	User, Method, Path string
	// Body is sent as application/json, unless Header says otherwise; ""
	// sends none.
	Body string
	// Header holds name/value pairs of request headers.
	Header []string
	// Status is the status the answer must have.
	Status int
	// Field is, for an /api/v1 answer of 400 or more, the field its error
	// body must name ("" none); the body must be a proper error either way.
	Field string
	// Contains are substrings the answer's body must hold, Lacks ones it
	// must not.
	Contains, Lacks []string
}

// Check sends the cases in order and reports every answer that is not as
// the case says. It returns the bodies of the answers, in order.
func (a *App) Check(t testing.TB, cases []Case) [][]byte {
	t.Helper()
	bodies := make([][]byte, len(cases))
	for i, c := range cases {
		name := c.Name
		if name == "" {
			name = fmt.Sprintf("%s %s as %q %.60s", c.Method, c.Path, c.User, c.Body)
		}
		var status int
		var b []byte
		if c.Body != "" {
			status, b = a.Do(c.User, c.Method, c.Path, strings.NewReader(c.Body), append([]string{"Content-Type", "application/json"}, c.Header...)...)
		} else {
			status, b = a.Do(c.User, c.Method, c.Path, nil, c.Header...)
		}
		bodies[i] = b
		if status != c.Status {
			t.Errorf("%s: status %d, want %d: %.300s", name, status, c.Status, b)
			continue
		}
		if status >= 400 && strings.HasPrefix(c.Path, "/api/v1/") {
			var eb struct {
				Error struct{ Code, Message, Field string }
			}
			if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
				t.Errorf("%s: a bad error body: %.300s", name, b)
			} else if eb.Error.Field != c.Field {
				t.Errorf("%s: error field %q, want %q: %s", name, eb.Error.Field, c.Field, b)
			}
		}
		for _, s := range c.Contains {
			if !strings.Contains(string(b), s) {
				t.Errorf("%s: the answer lacks %q: %.300s", name, s, b)
			}
		}
		for _, s := range c.Lacks {
			if strings.Contains(string(b), s) {
				t.Errorf("%s: the answer holds %q: %.300s", name, s, b)
			}
		}
	}
	return bodies
}
