// Package deploy holds what an operator deploys beside flipbench: the
// Prometheus scrape configuration, the alert rules and their unit tests,
// the Grafana dashboard, HAProxy's configuration. Its Go code reads the
// dashboard, so tests can evaluate every panel's query against a real
// Prometheus.
package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
)

// DashboardFile is the Grafana dashboard's file name in this directory.
const DashboardFile = "grafana-dashboard.json"

// Query is one PromQL query of a dashboard panel.
type Query struct {
	Panel string // the panel's title
	RefID string // the query's letter within the panel
	Expr  string
}

func (q Query) String() string { return fmt.Sprintf("%q/%s", q.Panel, q.RefID) }

// dashboard is the part of Grafana's dashboard JSON that holds queries.
type dashboard struct {
	Panels []panel `json:"panels"`
}

type panel struct {
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"` // a row's collapsed panels
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

// DashboardQueries reads the Grafana dashboard at path and returns every
// panel's queries, rows' nested panels included. A target without an
// expression is an error: Grafana would draw an empty panel.
func DashboardQueries(path string) ([]Query, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("dashboard %s: %w", path, err)
	}
	var qs []Query
	var walk func([]panel) error
	walk = func(ps []panel) error {
		for _, p := range ps {
			for _, t := range p.Targets {
				if t.Expr == "" {
					return fmt.Errorf("dashboard %s: panel %q, query %s: no expression", path, p.Title, t.RefID)
				}
				qs = append(qs, Query{Panel: p.Title, RefID: t.RefID, Expr: t.Expr})
			}
			if err := walk(p.Panels); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(d.Panels); err != nil {
		return nil, err
	}
	return qs, nil
}

// metricRE matches the metric names the dashboard and alerts use: the
// servers' flipbench_ series and the NATS exporter's jetstream_ ones.
var metricRE = regexp.MustCompile(`\b(?:flipbench|jetstream)_[a-z0-9_]+`)

// MetricNames lists, sorted and once each, the series names expr reads.
func MetricNames(expr string) []string {
	names := metricRE.FindAllString(expr, -1)
	slices.Sort(names)
	return slices.Compact(names)
}
