package instance

// splitSyslog splits a raw syslog file line into the program name (ident)
// and the message after "ident[pid]: ". It exists because tail with a stock
// syslog parser on /var/log/syslog fails on every line (the files carry no
// <PRI>) and emits the raw line as {"log": line} (docs/fluent-bit.md#node-log-files): mined as
// is, every template would start with a timestamp and a host name, and all
// programs of the node would share one partition.
//
// Accepted headers, each optionally preceded by "<PRI>":
//
//	Nov 25 17:40:07 host ident[pid]: message     (RFC 3164 as rsyslog writes files)
//	Nov  5 17:40:07 host ident: message
//	2026-11-25T17:40:07.123456+00:00 host ident[pid]: message   (RFC 3339, newer rsyslog)
//
// ok is false (and the line should be mined whole) when the line has no such
// header. The results are subslices of line.
func splitSyslog(line []byte) (ident, msg []byte, ok bool) {
	i := skipPRI(line)
	j, ok := skipSyslogTime(line, i)
	if !ok || j >= len(line) || line[j] != ' ' {
		return nil, nil, false
	}
	j++
	// Host name: one word.
	h := j
	for j < len(line) && line[j] != ' ' {
		j++
	}
	if j == h || j >= len(line) {
		return nil, nil, false
	}
	j++
	// Ident: up to '[' or ':', no blanks, at most 64 bytes.
	s := j
	for j < len(line) && line[j] != '[' && line[j] != ':' && line[j] != ' ' && j-s < 64 {
		j++
	}
	if j == s || j >= len(line) {
		return nil, nil, false
	}
	ident = line[s:j]
	if line[j] == '[' {
		for j++; j < len(line) && line[j] >= '0' && line[j] <= '9'; j++ {
		}
		if j >= len(line) || line[j] != ']' {
			return nil, nil, false
		}
		j++
	}
	if j >= len(line) || line[j] != ':' {
		return nil, nil, false
	}
	j++
	if j < len(line) && line[j] == ' ' {
		j++
	}
	return ident, line[j:], true
}

// skipPRI returns the index after a leading "<N>" (1 to 3 digits), or 0.
func skipPRI(b []byte) int {
	if len(b) < 3 || b[0] != '<' {
		return 0
	}
	for i := 1; i < len(b) && i <= 4; i++ {
		switch c := b[i]; {
		case c == '>' && i > 1:
			return i + 1
		case c < '0' || c > '9':
			return 0
		}
	}
	return 0
}

// skipSyslogTime returns the index after an RFC 3164 ("Jan _2 15:04:05") or
// RFC 3339 ("2006-01-02T15:04:05[.frac](Z|±hh:mm)") timestamp starting at i.
func skipSyslogTime(b []byte, i int) (int, bool) {
	if len(b)-i >= 15 && isUpper(b[i]) && isLower(b[i+1]) && isLower(b[i+2]) && b[i+3] == ' ' &&
		(b[i+4] == ' ' || isDigit(b[i+4])) && isDigit(b[i+5]) && b[i+6] == ' ' && isClock(b[i+7:]) {
		return i + 15, true
	}
	if len(b)-i < 20 || !isDate(b[i:]) || b[i+10] != 'T' || !isClock(b[i+11:]) {
		return 0, false
	}
	j := i + 19
	if j < len(b) && b[j] == '.' {
		for j++; j < len(b) && isDigit(b[j]); j++ {
		}
	}
	switch {
	case j < len(b) && b[j] == 'Z':
		return j + 1, true
	case len(b)-j >= 6 && (b[j] == '+' || b[j] == '-') && isDigit(b[j+1]) && isDigit(b[j+2]) &&
		b[j+3] == ':' && isDigit(b[j+4]) && isDigit(b[j+5]):
		return j + 6, true
	}
	return 0, false
}

// isDate reports whether b starts with "dddd-dd-dd".
func isDate(b []byte) bool {
	return len(b) >= 10 && isDigit(b[0]) && isDigit(b[1]) && isDigit(b[2]) && isDigit(b[3]) && b[4] == '-' &&
		isDigit(b[5]) && isDigit(b[6]) && b[7] == '-' && isDigit(b[8]) && isDigit(b[9])
}

// isClock reports whether b starts with "dd:dd:dd".
func isClock(b []byte) bool {
	return len(b) >= 8 && isDigit(b[0]) && isDigit(b[1]) && b[2] == ':' && isDigit(b[3]) && isDigit(b[4]) &&
		b[5] == ':' && isDigit(b[6]) && isDigit(b[7])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
