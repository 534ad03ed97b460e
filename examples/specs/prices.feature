@regression
Feature: House price model
  Prices are in thousands of euros.

  Scenario: Valuation error within budget
    Given labels from "data/prices.jsonl"
    And predictions from "data/price_predictions.jsonl"
    And the id column is "house"
    And the label column is "price"
    And the prediction column is "predicted_price"
    When the predictions are scored as regression
    Then mean absolute error should be at most 15
    And root mean squared error should be less than 15
    And r2 should be at least 0.95
