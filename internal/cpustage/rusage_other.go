//go:build !unix

package cpustage

import "time"

// ProcessCPU is unknown here.
func ProcessCPU() time.Duration { return 0 }
