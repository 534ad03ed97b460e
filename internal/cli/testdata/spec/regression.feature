Feature: Regression report
  Background:
    Given the label column is "y"
    And the prediction column is "yhat"

  Scenario: Error is small but r2 is undefined
    Given labels from "data/flat.jsonl"
    And predictions from "data/flat_pred.csv"
    When the predictions are scored as regression
    Then mean absolute error should be at most 1
    And root mean squared error should be less than 0.5
    And r2 should be at least 0.5

  Scenario: Missing input file
    Given labels from "data/none.csv"
    And predictions from "data/flat_pred.csv"
    When the predictions are scored as regression
    Then mean absolute error should be at most 1
