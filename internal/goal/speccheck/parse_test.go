package speccheck

import (
	"errors"
	"strings"
	"testing"
)

const fullFeature = `# comment before the feature
@feature-tag
Feature: Everything Gherkin has
  Some description.

  Background:
    Given labels from "labels.csv"
    # a comment between steps
    And predictions from "preds.csv"

  @smoke
  Scenario: Plain
    When the predictions are scored as classification
    Then accuracy should be at least 80%

  Scenario Outline: Per class <class>
    When the predictions are scored as classification
    Then recall for class "<class>" should be at least <min>

    @first
    Examples: first
      | class | min |
      | a     | 0.5 |

    Examples: second
      | class | min  |
      | b     | 50%  |

  @rule-tag
  Rule: A rule
    Background:
      Given the id column is "key"

    Scenario: In the rule
      When the predictions are scored as classification
      Then macro f1 should be at least 0.1
`

func TestParseSpecFull(t *testing.T) {
	sp, err := ParseSpec("specs/full.feature", []byte(fullFeature))
	if err != nil {
		t.Fatal(err)
	}
	if sp.Feature != "Everything Gherkin has" || sp.Line != 3 {
		t.Errorf("feature = %q line %d", sp.Feature, sp.Line)
	}
	type want struct {
		name    string
		rule    string
		line    int
		rowLine int
		tags    string
		steps   int
		last    string
	}
	wants := []want{
		{"Plain", "", 12, 0, "@feature-tag @smoke", 4, "accuracy should be at least 80%"},
		{"Per class a", "", 16, 23, "@feature-tag @first", 4, `recall for class "a" should be at least 0.5`},
		{"Per class b", "", 16, 27, "@feature-tag", 4, `recall for class "b" should be at least 50%`},
		{"In the rule", "A rule", 34, 0, "@feature-tag @rule-tag", 5, "macro f1 should be at least 0.1"},
	}
	if len(sp.Scenarios) != len(wants) {
		t.Fatalf("%d scenarios, want %d", len(sp.Scenarios), len(wants))
	}
	for i, w := range wants {
		s := sp.Scenarios[i]
		got := want{s.Name, s.Rule, s.Line, s.RowLine, strings.Join(s.Tags, " "), len(s.Steps), s.Steps[len(s.Steps)-1].Text}
		if got != w {
			t.Errorf("scenario %d = %+v\nwant %+v", i, got, w)
		}
	}
	// Background steps keep their own lines and keywords.
	bg := sp.Scenarios[0].Steps[1]
	if bg.Line != 9 || bg.Keyword != "And" || bg.Kind != StepPredictions {
		t.Errorf("background step = %+v", bg)
	}
	if th := sp.Scenarios[2].Steps[3].Check.Threshold; !near(th, 0.5) {
		t.Errorf("outline threshold 50%% = %v", th)
	}
}

func TestParseSpecErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string // each must appear, in order, one per error
	}{
		{"syntax", "Feature: x\n  Scenario: a\n    Given labels from \"l.csv\"\n  Examples:\n  | a |\n garbage\n",
			[]string{"f.feature:6:2: expected:"}},
		{"not gherkin", "hello\n", []string{"f.feature:1:1: expected: #EOF, #Language, #TagLine, #FeatureLine"}},
		{"unknown step", "Feature: x\n  Scenario: a\n    Given labels from \"l.csv\"\n    Then acuracy should be at least 0.8\n",
			[]string{`f.feature:4: unknown step: acuracy should be at least 0.8; closest known steps: accuracy should be at least N`}},
		{"unknown in outline names the row", "Feature: x\n  Scenario Outline: a\n    Then <m> should be at least 0.8\n    Examples:\n      | m |\n      | acc |\n",
			[]string{`f.feature:3: unknown step: acc should be at least 0.8`, "(Examples row on line 6)"}},
		{"check before scoring", "Feature: x\n  Scenario: a\n    Then accuracy should be at least 0.8\n",
			[]string{`f.feature:3: this step needs "When the predictions are scored as classification" before it`}},
		{"wrong task", "Feature: x\n  Scenario: a\n    When the predictions are scored as regression\n    Then accuracy should be at least 0.8\n",
			[]string{`f.feature:4: this step checks a classification metric, but the predictions are scored as regression`}},
		{"no checks", "Feature: x\n  Scenario: a\n    Given labels from \"l.csv\"\n",
			[]string{`f.feature:2: scenario "a" has no Then step that checks a metric`}},
		{"logged metric without a source", "Feature: x\n  Scenario: a\n    Then metric \"loss\" should be at most 1\n",
			[]string{`f.feature:3: this step needs a run`}},
		{"data table", "Feature: x\n  Scenario: a\n    Given labels from \"l.csv\"\n      | a |\n    Then metric \"m\" should be at least 1\n",
			[]string{`f.feature:3: step labels from "l.csv" takes no data table or doc string`}},
		{"background error once", "Feature: x\n  Background:\n    Given lables from \"l.csv\"\n  Scenario: a\n    Then accuracy should be at least 1\n  Scenario: b\n    Then accuracy should be at least 1\n",
			[]string{`f.feature:3: unknown step: lables from "l.csv"; closest known steps: labels from "PATH"`}},
		// The parser's line scanner stops at 64 KiB; the longest line
		// allowed is far from it whatever the line ending.
		{"long lines", "Feature: x\n  Scenario: a\n    Then accuracy should be at least 1 " + strings.Repeat("x", 70000) + "\n#" + strings.Repeat("y", 32767) + "\r\n" + strings.Repeat("z", 32769),
			[]string{"f.feature:3: line is longer than 32768 bytes", "f.feature:5: line is longer than 32768 bytes"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSpec("f.feature", []byte(c.src))
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("err = %v, want Errors", err)
			}
			if len(es) != len(c.want) && !strings.Contains(c.name, "outline") {
				t.Errorf("%d errors, want %d:\n%v", len(es), len(c.want), err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestParseSpecEmpty(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "Feature: no scenarios\n"} {
		sp, err := ParseSpec("e.feature", []byte(src))
		if err != nil || len(sp.Scenarios) != 0 {
			t.Errorf("ParseSpec(%q) = %v, %v; want no scenarios", src, sp, err)
		}
	}
}

func FuzzParseSpec(f *testing.F) {
	f.Add(fullFeature)
	f.Add("Feature: x\n  Scenario: a\n    Given labels from \"l.csv\"\n  Examples:\n  | a |\n garbage\n")
	f.Add("# language: fr\nFonctionnalité: x\n  Scénario: a\n    Alors accuracy should be at least 1\n")
	f.Add("Feature: x\n  Scenario Outline: <a>\n    Then <a> should be at least <b>\n    Examples:\n      | a | b |\n      | accuracy | 1 |\n      |")
	f.Add("Feature: x\n  Scenario: a\n    Then accuracy should be at least 1 " + strings.Repeat("x", 1<<16) + "\n")
	f.Fuzz(func(t *testing.T, src string) {
		sp, err := ParseSpec("fuzz.feature", []byte(src))
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %v is not a non-empty Errors", err)
			}
			for _, e := range es {
				if e.File != "fuzz.feature" {
					t.Fatalf("error without the file: %v", e)
				}
			}
			return
		}
		for _, s := range sp.Scenarios {
			for _, st := range s.Steps {
				if st.Kind == 0 || st.Line <= 0 {
					t.Fatalf("unbound or unlocated step %+v", st)
				}
			}
		}
	})
}
