package runfolder

// Files of a run folder, beside one folder per mode.
const (
	FileEnv         = "env.json"
	FileSummaryJSON = "summary.json"
	FileSummaryMD   = "summary.md"
	FileMode        = "mode.json"
	FileServerLog   = "server.log"
	// DirS holds the server log of the baseline mode when it ran only to
	// measure the run's S (the folder keeps its old name).
	DirS = "calibration"
)

// BaselineMode is the mode speedups are over and whose burst measures the
// run's S: one process on one core, the article's single Node process.
const BaselineMode = "standard"
