package speccheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func writeFile(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestScoreClassificationCSVAndJSONL(t *testing.T) {
	dir := t.TempDir()
	labels := writeFile(t, dir, "labels.csv", "\uFEFFid,label,extra\n1,cat,x\n2,dog,y\n3,cat,z\n\"4\",\"dog, big\",w\n")
	preds := writeFile(t, dir, "preds.jsonl", `{"id": 3, "prediction": "cat"}`+"\n\n"+
		`{"id": "1", "prediction": "dog", "p": [0.1]}`+"\n"+`{"prediction":"dog","id":2}`+"\n"+`{"id":4,"prediction":"dog, big"}`)
	s, err := Score(labels, preds, DefaultColumns, TaskClassification, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Confusion
	if s.N != 4 || strings.Join(m.Classes, "|") != "cat|dog|dog, big" {
		t.Fatalf("N=%d classes=%v", s.N, m.Classes)
	}
	if m.TP("cat") != 1 || m.FN("cat") != 1 || m.FP("dog") != 1 || m.TP("dog, big") != 1 {
		t.Errorf("counts wrong: %v", m.Counts)
	}
	wantValue(t, "accuracy", m.Accuracy(), 0.75)
}

func TestScoreCustomColumnsAndSniffing(t *testing.T) {
	dir := t.TempDir()
	// .json and .txt are sniffed: JSON Lines start with '{'.
	labels := writeFile(t, dir, "labels.json", "  \n"+`{"key":"a","y":1.5}`+"\n"+`{"key":"b","y":2.5}`+"\n")
	preds := writeFile(t, dir, "preds.txt", "key,yhat\na,1\nb,3\n")
	s, err := Score(labels, preds, Columns{ID: "key", Label: "y", Prediction: "yhat"}, TaskRegression, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, "mae", s.Regression.MAE(), 0.5)
}

func TestScoreErrors(t *testing.T) {
	cases := []struct {
		name, labels, preds string
		task                Task
		want                string
	}{
		{"missing prediction", "id,label\n1,a\n2,b\n3,a\n", "id,prediction\n1,a\n", TaskClassification,
			`2 ids in LABELS have no prediction in PREDS (first: "2", "3")`},
		{"missing label", "id,label\n1,a\n", "id,prediction\n1,a\nx,b\n", TaskClassification,
			`1 id in PREDS has no label in LABELS (first: "x")`},
		{"both sides", "id,label\n1,a\n2,a\n", "id,prediction\n1,a\n9,b\n", TaskClassification,
			`1 id in LABELS has no prediction in PREDS (first: "2"); 1 id in PREDS has no label in LABELS (first: "9")`},
		{"duplicate label id", "id,label\n1,a\n2,b\n1,c\n", "id,prediction\n1,a\n", TaskClassification,
			`LABELS:4: duplicate id "1" (first on line 2)`},
		{"duplicate prediction id", "id,label\n1,a\n", "id,prediction\n1,a\n1,b\n", TaskClassification,
			`PREDS:3: duplicate id "1" (first on line 2)`},
		{"duplicate unlabelled prediction id", "id,label\n1,a\n", "id,prediction\n1,a\n7,b\n7,b\n", TaskClassification,
			`PREDS:4: duplicate id "7" (first on line 3)`},
		{"missing column", "id,lbl\n1,a\n", "id,prediction\n1,a\n", TaskClassification,
			`LABELS:1: no column "label" in the header (columns: id, lbl)`},
		{"ragged csv", "id,label\n1,a\n2\n", "id,prediction\n1,a\n", TaskClassification,
			`LABELS:3:1: wrong number of fields`},
		{"bad quote", "id,label\n1,\"a\n", "id,prediction\n1,a\n", TaskClassification,
			`LABELS:2:`},
		{"empty id", "id,label\n,a\n", "id,prediction\n1,a\n", TaskClassification,
			`LABELS:2: empty id in column "id"`},
		{"empty label", "id,label\n1,\n", "id,prediction\n1,a\n", TaskClassification,
			`LABELS:2: empty label in column "label"`},
		{"empty file", "", "id,prediction\n1,a\n", TaskClassification,
			`LABELS: empty file`},
		{"regression label not a number", "id,label\n1,1\n2,abc\n", "id,prediction\n1,1\n", TaskRegression,
			`LABELS:3: label "abc" in column "label" is not a number`},
		{"regression prediction not finite", "id,label\n1,1\n", "id,prediction\n1,NaN\n", TaskRegression,
			`PREDS:2: prediction "NaN" in column "prediction" is not a number`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			l := writeFile(t, dir, "l.csv", c.labels)
			p := writeFile(t, dir, "p.csv", c.preds)
			_, err := Score(l, p, DefaultColumns, c.task, nil)
			want := strings.NewReplacer("LABELS", l, "PREDS", p).Replace(c.want)
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v\nwant InputError containing %q", err, want)
			}
		})
	}
}

func TestScoreJSONLErrors(t *testing.T) {
	cases := []struct{ name, preds, want string }{
		{"not json", "{\"id\":1,\"prediction\":\"a\"}\n{oops\n", "PREDS:2: not a JSON object"},
		{"array row", "[1,2]\n", "PREDS:1: not a JSON object: the row is a JSON array, not an object"},
		{"missing field", "\n\n{\"id\":1}\n", `PREDS:3: no field "prediction" in the row`},
		{"null", "{\"id\":1,\"prediction\":null}\n", `PREDS:1: field "prediction" is null`},
		{"object value", "{\"id\":1,\"prediction\":{\"a\":1}}\n", `PREDS:1: field "prediction" must be a string, number or boolean`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			l := writeFile(t, dir, "l.csv", "id,label\n1,a\n")
			p := writeFile(t, dir, "p.jsonl", c.preds)
			_, err := Score(l, p, DefaultColumns, TaskClassification, nil)
			want := strings.ReplaceAll(c.want, "PREDS", p)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v\nwant %q", err, want)
			}
		})
	}
}

func TestScoreMissingFile(t *testing.T) {
	dir := t.TempDir()
	l := writeFile(t, dir, "l.csv", "id,label\n1,a\n")
	_, err := Score(l, filepath.Join(dir, "nope.csv"), DefaultColumns, TaskClassification, nil)
	if err == nil || !strings.Contains(err.Error(), "nope.csv: cannot open: no such file or directory") {
		t.Errorf("err = %v", err)
	}
}

func TestScoreProgress(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("id,label\n")
	for i := range 50000 {
		b.WriteString(strings.Repeat("x", 8) + string(rune('a'+i%26)) + strconv.Itoa(i) + ",a\n")
	}
	l := writeFile(t, dir, "l.csv", b.String())
	p := writeFile(t, dir, "p.csv", strings.Replace(b.String(), "id,label", "id,prediction", 1))
	calls := map[string]int{}
	last := map[string]int64{}
	_, err := Score(l, p, DefaultColumns, TaskClassification, func(file string, read, size int64) {
		calls[file]++
		if read > size || read < 0 {
			t.Errorf("progress %d of %d", read, size)
		}
		last[file] = read
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{l, p} {
		st, _ := os.Stat(f)
		if calls[f] < 2 || last[f] != st.Size() {
			t.Errorf("%s: progress called %d times, last %d of %d", f, calls[f], last[f], st.Size())
		}
	}
}

// FuzzLoadRows feeds arbitrary bytes to both loaders as labels and
// predictions: they must return rows or an InputError, never panic.
func FuzzLoadRows(f *testing.F) {
	f.Add("id,label\n1,a\n2,b\n", ".csv")
	f.Add("{\"id\":1,\"label\":\"a\"}\n{\"id\":2,\"label\":true}\n", ".jsonl")
	f.Add("\uFEFFid,label\n\"1\",\"a\nb\"\n", ".txt")
	f.Add("{\"id\":1,\"label\":1e400}\n", ".json")
	f.Fuzz(func(t *testing.T, content, ext string) {
		if strings.ContainsAny(ext, "/\\\x00") || len(ext) > 10 {
			return
		}
		dir := t.TempDir()
		p := writeFile(t, dir, "f"+ext, content)
		for _, task := range []Task{TaskClassification, TaskRegression} {
			_, err := Score(p, p, Columns{ID: "id", Label: "label", Prediction: "label"}, task, nil)
			if err == nil {
				continue
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("%v is not an InputError", err)
			}
		}
	})
}

// FuzzJSONLFields checks the fast field scanner against encoding/json on
// every valid object.
func FuzzJSONLFields(f *testing.F) {
	f.Add(`{"id":"a\"b","label":[1,{"x":"}"}],"label":2}`)
	f.Add(`{ "i\u0064" : 12.5e3 , "label":"x" }`)
	f.Add(`{"label":{"id":1},"id":true}`)
	f.Fuzz(func(t *testing.T, row string) {
		b := []byte(row)
		var want map[string]json.RawMessage
		if !json.Valid(b) || json.Unmarshal(b, &want) != nil {
			return
		}
		j := &jsonlRows{idCol: "id", valCol: "label"}
		j.topLevel(bytes.TrimSpace(b))
		for col, got := range map[string][]byte{"id": j.id, "label": j.val} {
			w, ok := want[col]
			if !ok {
				if got != nil {
					t.Fatalf("%s: found %q, encoding/json finds none", col, got)
				}
				continue
			}
			var a, bb any
			if json.Unmarshal(got, &a) != nil || json.Unmarshal(w, &bb) != nil || fmt.Sprint(a) != fmt.Sprint(bb) {
				t.Fatalf("%s: got %q, encoding/json %q", col, got, w)
			}
		}
	})
}
