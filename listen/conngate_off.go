//go:build !flipbench_conngate

package listen

// countsConnections is false: the gate counts work (see phase.holds).
const countsConnections = false
