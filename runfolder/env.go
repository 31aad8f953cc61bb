package runfolder

// Env describes the machine and inputs of a run, so a reader can tell whether
// two runs are comparable.
type Env struct {
	Date        string            `json:"date"`
	Hostname    string            `json:"hostname,omitempty"`
	CPUModel    string            `json:"cpu_model"`
	Cores       int               `json:"cores"`
	MemoryBytes uint64            `json:"memory_bytes"`
	Kernel      string            `json:"kernel"`
	OS          string            `json:"os"`
	Arch        string            `json:"arch"`
	GoVersion   string            `json:"go_version"`
	GitCommit   string            `json:"git_commit"`
	GitDirty    bool              `json:"git_dirty"`
	Image       string            `json:"image"`
	ImageBytes  int64             `json:"image_bytes"`
	ImageSHA256 string            `json:"image_sha256"`
	Binaries    map[string]string `json:"binaries_sha256,omitempty"`
	Flags       map[string]string `json:"flags,omitempty"`
	Args        []string          `json:"args,omitempty"`
}
