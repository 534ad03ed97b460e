package goal

import (
	"context"
	"fmt"
	"strings"

	"github.com/trellisml/trellis/internal/goal/speccheck"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/tracking"
)

// demoGoal is a goal of the demo story, on the demo item with the given
// title ("" for the project's own goals).
type demoGoal struct {
	item string
	goal Goal
}

var demoGoals = []demoGoal{
	{"", Goal{Metric: "recall", Comparator: speccheck.AtLeast, Threshold: 0.8, Dataset: "balloons", DatasetVersion: "v3",
		Experiment: tracking.DemoExperiment, Note: "The sprint goal: find four balloons in five."}},
	{"", Goal{Metric: "p95_latency_ms", Comparator: speccheck.AtMost, Threshold: 200, Experiment: tracking.DemoExperiment,
		Note: "The photo app times out above 200 ms."}},
	{"Higher input resolution (1024 px)", Goal{Metric: "recall", Comparator: speccheck.AtLeast, Threshold: 0.8, Dataset: "balloons", DatasetVersion: "v3"}},
	{"Higher input resolution (1024 px)", Goal{Metric: "p95_latency_ms", Comparator: speccheck.AtMost, Threshold: 200, Note: "Measured on the 4-core serving box."}},
	{"Focal loss against class imbalance", Goal{Metric: "recall", Comparator: speccheck.AtLeast, Threshold: 0.8, Dataset: "balloons", DatasetVersion: "v3"}},
	{"Focal loss against class imbalance", Goal{Metric: "precision", Comparator: speccheck.AtLeast, Threshold: 0.86, Dataset: "balloons", DatasetVersion: "v3",
		Note: "No worse than 0.02 below the baseline's 0.88."}},
	{"Mosaic augmentation", Goal{Metric: "recall", Comparator: speccheck.AtLeast, Threshold: 0.74, Dataset: "balloons", DatasetVersion: "v3",
		Note: "Three points over the 0.71 baseline."}},
	{"Retrain on the July photo drop", Goal{Metric: "recall", Comparator: speccheck.AtLeast, Threshold: 0.78, Dataset: "balloons", DatasetVersion: "v3+july"}},
	{"Retrain on the July photo drop", Goal{Metric: "precision", Comparator: speccheck.AtLeast, Threshold: 0.88, Dataset: "balloons", DatasetVersion: "v3+july"}},
}

// demoSpecItem is the demo item that carries an acceptance spec.
const demoSpecItem = "Retrain on the July photo drop"

// demoSpec is its spec; %s is the item's key.
const demoSpec = `@retraining
Feature: A retrained detector is ready to release
  Tess wrote this before the July photos were labelled: a retrained model
  ships only when it is at least as good as the one in the app.

  Scenario: it finds as many balloons as the current model
    Given the latest run of item "%[1]s"
    Then metric "recall" should be at least 0.78

  Scenario: it raises no more false alarms than the current model
    Given the latest run of item "%[1]s"
    Then metric "precision" should be at least 0.88

  Scenario: the app stays fast
    Given the latest run of item "%[1]s"
    Then metric "p95_latency_ms" should be at most 200
`

// SeedDemo gives the demo project (work.SeedDemo, with its runs from
// tracking's SeedDemo) goals on the project and its experiments, and an
// acceptance spec on the retraining item, through the Service, so they are
// evaluated and checked like any other. keys are the demo project's item
// keys by title; a missing demo item is an error, since the story would not
// hold together.
func (s *Service) SeedDemo(ctx context.Context, proj *project.Project, keys map[string]string) error {
	key := func(title string) (string, error) {
		if title == "" {
			return "", nil
		}
		k, ok := keys[title]
		if !ok {
			return "", fmt.Errorf("demo goals: no demo item %q", title)
		}
		return k, nil
	}
	for _, d := range demoGoals {
		k, err := key(d.item)
		if err != nil {
			return err
		}
		if _, err := s.AddGoal(ctx, proj, k, d.goal); err != nil {
			return fmt.Errorf("demo goal %s: %w", d.goal, err)
		}
	}
	k, err := key(demoSpecItem)
	if err != nil {
		return err
	}
	name := strings.ToLower(strings.ReplaceAll(demoSpecItem, " ", "-")) + ".feature"
	if _, err := s.AttachSpec(ctx, proj, k, name, fmt.Sprintf(demoSpec, k)); err != nil {
		return fmt.Errorf("demo spec: %w", err)
	}
	return nil
}
