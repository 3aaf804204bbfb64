package drain

import (
	"fmt"
	"regexp"
)

// Mask is a masking instruction, applied in order before tokenising, as
// Drain3's RegexMaskingInstruction: every match of Pattern is replaced by
// "<" + Name + ">", so Name "*" turns a masked span into the wildcard "<*>".
type Mask struct {
	Name    string
	Pattern string
}

// Config holds the algorithm settings and the resource bounds of a Miner.
// Start from Preset and change what differs; every field must be set.
type Config struct {
	// Drain3's parameters.
	Depth              int      // prefix-tree depth as in Drain3 (>= 3): token count + Depth-3 leading tokens
	SimTh              float64  // similarity threshold in [0, 1]
	MaxChildren        int      // children per internal node before the <*> overflow child takes the rest
	ParametrizeNumeric bool     // route tokens containing a digit to the <*> child
	ExtraDelimiters    []string // replaced by a space before splitting, in order
	Masks              []Mask   // regex masking instructions, applied in order

	// Tokenizer and Scoring select the implementation of the two seams of the
	// algorithm: text → tokens (masking + splitting) and leaf candidates →
	// best cluster + template merge. "" means "drain3" (Drain3-exact).
	Tokenizer string
	Scoring   string

	// Bounds; each one is counted in Stats when it bites.
	MaxClusters      int // live clusters across all partitions; the least recently used is evicted
	MaxPartitions    int // live partitions; the least recently used is evicted with its clusters
	MaxLineBytes     int // longer lines are cut (at a UTF-8 boundary) before masking
	MaxTokens        int // tokens after the first MaxTokens are dropped
	MaxSnapshotBytes int // Restore refuses larger snapshots

	// MaxScored bounds the clusters of a leaf scored against one line. A leaf
	// with more (a flood of never-seen lines fills the "<*>" child of a node
	// past MaxChildren) is scored through a window: its MaxScored/2 most
	// recently matched clusters and its newest ones (leaf.go).
	MaxScored int

	// The new-template budget of a partition (budget.go): a token bucket of
	// NewTemplateBurst templates refilled at NewTemplateRate a minute, and at
	// most MaxPartitionClusters live clusters. A partition past it is
	// flooding: its lines still match and widen the templates it has, but
	// create none (Throttled). NewTemplateBurst 0 turns the bucket off.
	NewTemplateBurst     int
	NewTemplateRate      int
	MaxPartitionClusters int

	// SiblingValues is the evidence that makes a word position a variable
	// (siblings.go, "default" scoring): a line that found no cluster and
	// templates identical to it but at one position, with this many
	// distinct values there, merge into one template with "<*>" there.
	// 0 turns it off (the "drain3" preset: Drain3 has no such rule).
	SiblingValues int
}

// Limits of the knobs themselves: a Depth beyond maxDepth would only waste
// memory (and deepen snapshots), MaxTokens beyond maxTokens is not a log line.
const (
	maxDepth  = 32
	maxTokens = 1 << 16
)

// Preset returns a named configuration:
//   - "drain3": Drain3 v0.9.11 defaults as the seed service ran them (depth 4,
//     sim_th 0.4, max_children 100, numeric tokens parametrised, no masking);
//     reproduces Drain3 line for line.
//   - "default": Drain's tree (depth 4) with the masking scanner of default_scan.go
//     (variables and secrets, no regexes) and the scorer of default_score.go;
//     the plugin's choice unless told otherwise (docs/default-preset.md).
func Preset(name string) (Config, error) {
	cfg := Config{
		Depth:              4,
		SimTh:              0.4,
		MaxChildren:        100,
		ParametrizeNumeric: true,
		Tokenizer:          "drain3",
		Scoring:            "drain3",
		MaxClusters:        50000,
		MaxPartitions:      10000,
		MaxLineBytes:       64 << 10,
		MaxTokens:          512,
		MaxSnapshotBytes:   256 << 20,
		// Loghub-2k's busiest leaf holds 251 clusters (HealthApp, drain3
		// preset); the raw lines of all 16 sets in one partition (their
		// masked timestamps first: one leaf per length) about as many.
		// A window of 64 re-created templates there that had left it;
		// 256 leaves every one of them whole (docs/config.md).
		MaxScored: 256,
		// The 16 Loghub-2k sets mined into one partition make 1,357
		// templates (default preset): under the burst, with room.
		NewTemplateBurst:     2000,
		NewTemplateRate:      60,
		MaxPartitionClusters: 5000,
	}
	switch name {
	case "drain3":
		return cfg, nil
	case "default":
		// See docs/default-preset.md: the hand-written masking scanner
		// (default_scan.go) and the word-aware scorer (default_score.go).
		cfg.SimTh = 0.5
		cfg.Tokenizer = "default"
		cfg.Scoring = "default"
		cfg.SiblingValues = 4
		return cfg, nil
	}
	return Config{}, fmt.Errorf("drain: unknown preset %q (want drain3 or default)", name)
}

// Validate reports the first invalid field of c, by name.
func (c *Config) Validate() error {
	switch {
	case c.Depth < 3 || c.Depth > maxDepth:
		return fmt.Errorf("drain: Config.Depth must be in [3, %d], got %d", maxDepth, c.Depth)
	case !(c.SimTh >= 0 && c.SimTh <= 1):
		return fmt.Errorf("drain: Config.SimTh must be in [0, 1], got %v", c.SimTh)
	case c.MaxChildren < 1:
		return fmt.Errorf("drain: Config.MaxChildren must be at least 1, got %d", c.MaxChildren)
	case c.MaxClusters < 1:
		return fmt.Errorf("drain: Config.MaxClusters must be at least 1, got %d", c.MaxClusters)
	case c.MaxPartitions < 1:
		return fmt.Errorf("drain: Config.MaxPartitions must be at least 1, got %d", c.MaxPartitions)
	case c.MaxLineBytes < 1:
		return fmt.Errorf("drain: Config.MaxLineBytes must be at least 1, got %d", c.MaxLineBytes)
	case c.MaxTokens < 1 || c.MaxTokens > maxTokens:
		return fmt.Errorf("drain: Config.MaxTokens must be in [1, %d], got %d", maxTokens, c.MaxTokens)
	case c.MaxSnapshotBytes < 1:
		return fmt.Errorf("drain: Config.MaxSnapshotBytes must be at least 1, got %d", c.MaxSnapshotBytes)
	case c.MaxScored < 2:
		return fmt.Errorf("drain: Config.MaxScored must be at least 2, got %d", c.MaxScored)
	case c.NewTemplateBurst < 0:
		return fmt.Errorf("drain: Config.NewTemplateBurst must be at least 0, got %d", c.NewTemplateBurst)
	case c.NewTemplateRate < 0:
		return fmt.Errorf("drain: Config.NewTemplateRate must be at least 0, got %d", c.NewTemplateRate)
	case c.SiblingValues < 0 || c.SiblingValues == 1:
		return fmt.Errorf("drain: Config.SiblingValues must be 0 (off) or at least 2, got %d", c.SiblingValues)
	case c.MaxPartitionClusters < 1:
		return fmt.Errorf("drain: Config.MaxPartitionClusters must be at least 1, got %d", c.MaxPartitionClusters)
	}
	if _, ok := tokenizers[c.Tokenizer]; !ok {
		return fmt.Errorf("drain: Config.Tokenizer %q is not known", c.Tokenizer)
	}
	if _, ok := scorings[c.Scoring]; !ok {
		return fmt.Errorf("drain: Config.Scoring %q is not known", c.Scoring)
	}
	for i, d := range c.ExtraDelimiters {
		if d == "" {
			return fmt.Errorf("drain: Config.ExtraDelimiters[%d] is empty", i)
		}
	}
	for i, mk := range c.Masks {
		if !validMaskName(mk.Name) {
			return fmt.Errorf("drain: Config.Masks[%d].Name %q must be \"*\" or letters, digits, '_', ':', '.', '-'", i, mk.Name)
		}
		if _, err := regexp.Compile(mk.Pattern); err != nil {
			return fmt.Errorf("drain: Config.Masks[%d].Pattern (%s): %v", i, mk.Name, err)
		}
	}
	return nil
}

// validMaskName keeps "<NAME>" one token: no whitespace, no '<' '>' inside.
func validMaskName(s string) bool {
	if s == "*" {
		return true
	}
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
