@golden
Feature: Golden report
  Background:
    Given labels from "data/labels.csv"
    And predictions from "data/predictions.csv"
    When the predictions are scored as classification

  @smoke
  Scenario: Passes
    Then accuracy should be at least 85%
    And the number of false negatives for class "spam" should be at most 1

  Scenario Outline: Recall per class
    Then recall for class "<class>" should be at least <minimum>

    Examples:
      | class | minimum |
      | ham   | 0.9     |
      | spam  | 0.95    |

  Scenario: Undefined metric
    Then precision for class "eggs" should be at least 0.5
