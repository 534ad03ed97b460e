package speccheck

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// writeRows writes n rows of labels and predictions in format ext (".csv"
// or ".jsonl") with 10 classes, about 90% predicted right, predictions in
// a different order from labels.
func writeRows(tb testing.TB, dir, ext string, n int) (labels, preds string) {
	tb.Helper()
	labels, preds = filepath.Join(dir, "labels"+ext), filepath.Join(dir, "preds"+ext)
	write := func(path, col string, row func(i int) (string, string)) {
		f, err := os.Create(path)
		if err != nil {
			tb.Fatal(err)
		}
		w := bufio.NewWriter(f)
		if ext == ".csv" {
			fmt.Fprintf(w, "id,%s\n", col)
		}
		for i := range n {
			id, v := row(i)
			if ext == ".csv" {
				fmt.Fprintf(w, "%s,%s\n", id, v)
			} else {
				fmt.Fprintf(w, "{\"id\":%q,%q:%q}\n", id, col, v)
			}
		}
		if err := w.Flush(); err != nil {
			tb.Fatal(err)
		}
		f.Close()
	}
	write(labels, "label", func(i int) (string, string) {
		return fmt.Sprintf("item-%07d", i), fmt.Sprintf("class-%d", i%10)
	})
	write(preds, "prediction", func(i int) (string, string) {
		j := n - 1 - i
		c := j % 10
		if j%10 == 3 && j%3 == 0 {
			c = (c + 1) % 10
		}
		return fmt.Sprintf("item-%07d", j), fmt.Sprintf("class-%d", c)
	})
	return labels, preds
}

// BenchmarkScore1M scores 1,000,000 joined rows as classification and
// computes every metric, as `trellis spec check` does.
func BenchmarkScore1M(b *testing.B) {
	for _, ext := range []string{".csv", ".jsonl"} {
		b.Run(ext[1:], func(b *testing.B) {
			l, p := writeRows(b, b.TempDir(), ext, 1_000_000)
			b.ResetTimer()
			for b.Loop() {
				s, err := Score(l, p, DefaultColumns, TaskClassification, nil)
				if err != nil {
					b.Fatal(err)
				}
				if s.N != 1_000_000 || len(s.Metrics()) < 70 {
					b.Fatalf("scored %d rows", s.N)
				}
			}
		})
	}
}

// BenchmarkCheckSpec1M runs a whole spec (parse, score, check) over
// 1,000,000 CSV rows.
func BenchmarkCheckSpec1M(b *testing.B) {
	dir := b.TempDir()
	writeRows(b, dir, ".csv", 1_000_000)
	sp := mustSpec(b, dir, "big.feature", `Feature: big
  Scenario: quality
    Given labels from "labels.csv"
    And predictions from "preds.csv"
    When the predictions are scored as classification
    Then accuracy should be at least 0.9
    And macro f1 should be at least 0.9
    And recall for class "class-3" should be at least 0.6
`)
	b.ResetTimer()
	for b.Loop() {
		rep := NewChecker(Options{}).Check(context.Background(), []*Spec{sp})
		if rep.Passed+rep.Failed != 1 {
			b.Fatalf("report %+v", rep)
		}
	}
}
