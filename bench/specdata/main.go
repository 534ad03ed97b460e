// Command specdata writes a labels file, a predictions file and a feature
// file of N rows into a directory, to time `trellis spec check` on big
// inputs:
//
//	go run ./bench/specdata -dir /tmp/specbig -n 1000000
//	time bin/trellis spec check /tmp/specbig
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

func main() {
	dir := flag.String("dir", "", "output directory (created)")
	n := flag.Int("n", 1_000_000, "rows")
	classes := flag.Int("classes", 10, "classes")
	flag.Parse()
	if *dir == "" || *n < 1 || *classes < 2 {
		log.Fatal("usage: specdata -dir DIR [-n ROWS] [-classes K]")
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	write := func(name, header string, row func(i int) string) {
		f, err := os.Create(filepath.Join(*dir, name))
		if err != nil {
			log.Fatal(err)
		}
		w := bufio.NewWriter(f)
		fmt.Fprintln(w, header)
		for i := range *n {
			fmt.Fprintln(w, row(i))
		}
		if err := w.Flush(); err != nil {
			log.Fatal(err)
		}
		if err := f.Close(); err != nil {
			log.Fatal(err)
		}
	}
	k := *classes
	write("labels.csv", "id,label", func(i int) string { return fmt.Sprintf("item-%08d,class-%d", i, i%k) })
	// Predictions in reverse order, one in 30 wrong.
	write("predictions.csv", "id,prediction", func(i int) string {
		j := *n - 1 - i
		c := j % k
		if j%30 == 0 {
			c = (c + 1) % k
		}
		return fmt.Sprintf("item-%08d,class-%d", j, c)
	})
	spec := `Feature: Big input
  Scenario: Quality on a million rows
    Given labels from "labels.csv"
    And predictions from "predictions.csv"
    When the predictions are scored as classification
    Then accuracy should be at least 0.95
    And macro f1 should be at least 0.95
    And recall for class "class-3" should be at least 0.9
`
	if err := os.WriteFile(filepath.Join(*dir, "big.feature"), []byte(spec), 0o644); err != nil {
		log.Fatal(err)
	}
}
