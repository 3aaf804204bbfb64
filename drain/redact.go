package drain

import "strings"

// Redact returns line with every secret the default preset's scanner masks
// replaced by repl, and every other byte kept: the values of password,
// token, secret, API key and cookie settings (a URL's "?key=" too), the
// token after Bearer or Basic, JWTs, e-mail addresses, AWS key ids and the
// key material of a PEM private key block (its BEGIN and END lines stay).
// A value that is already a mask ("<*>", "<IP>") is left alone, so a
// template the scanner masked comes back unchanged. It returns line itself
// when there is nothing to redact.
//
// It is the plugin's view of a stored sample line, and a second guard on
// template texts (the drain3 preset masks nothing); it is not on the
// per-line path, only on new templates.
func Redact(line, repl string) string {
	var b strings.Builder
	last := 0 // line[last:] is still to be copied
	put := func(i, j int) {
		if i >= j || isMaskToken(line[i:j]) {
			return // nothing there ("token=&x"), or already a mask
		}
		if b.Len() == 0 {
			b.Grow(len(line))
		}
		b.WriteString(line[last:i])
		b.WriteString(repl)
		last = j
	}
	n := len(line)
	ps, pe := 0, 0 // the word before, for "Bearer <token>"
	for i := 0; i < n; {
		st := i
		for i < n && byteClass[line[i]]&(bSpace|bDelim) != 0 {
			i++
		}
		if i >= n {
			break
		}
		k, at := i, false
		for k < n && byteClass[line[k]]&(bSpace|bDelim) == 0 {
			at = at || line[k] == '@'
			k++
		}
		// Keys and schemes first, then e-mail addresses by themselves
		// (secretValue would take the whole word "<alice@example.com>", as
		// the scanner does): a value is redacted the same way twice.
		if j, ok := secretValue(line, st, i, k, false, ps, pe); ok {
			v := i
			if sp := strings.IndexByte(line[i:j], ' '); sp > 0 && authScheme(line[i:i+sp]) {
				v = i + sp + 1 // "Authorization: Bearer <token>": the scheme stays
			}
			put(v, j)
			ps, pe, i = i, j, max(j, i+1)
			continue
		}
		if at {
			if s, e, ok := emailIn(line, i, k); ok {
				put(s, e)
				ps, pe, i = i, k, e // the rest of the word may hold another
				continue
			}
		}
		w := strings.TrimRight(line[i:k], ".")
		switch {
		case awsKeyID(w):
			put(i, i+len(w))
		case w == "-----BEGIN":
			if hdr, body, end, ok := privateKeyBlock(line, i); ok {
				s, e := hdr, body
				for s < e && isSpaceByte(line[s]) {
					s++
				}
				for e > s && isSpaceByte(line[e-1]) {
					e--
				}
				if s < e {
					put(s, e)
				}
				k = max(k, end)
			}
		}
		ps, pe, i = i, k, k
	}
	if last == 0 {
		return line
	}
	b.WriteString(line[last:])
	return b.String()
}

// emailIn finds the first e-mail address in the word line[i:k], at its
// start or inside it ("<alice@example.com>"), and returns its bounds.
func emailIn(line string, i, k int) (int, int, bool) {
	a := i + strings.IndexByte(line[i:k], '@')
	s := a
	for s > i && (isAlphaB(line[s-1]) || isDigitB(line[s-1]) || strings.IndexByte("._%+-", line[s-1]) >= 0) {
		s--
	}
	if s == a || !isEmail(line, s) {
		return 0, 0, false
	}
	e := a + 1
	for e < k && (isAlphaB(line[e]) || isDigitB(line[e]) || line[e] == '.' || line[e] == '-') {
		e++
	}
	for e > a+1 && line[e-1] == '.' {
		e-- // a sentence dot
	}
	return s, e, true
}

func authScheme(w string) bool {
	return strings.EqualFold(w, "bearer") || strings.EqualFold(w, "basic") || strings.EqualFold(w, "digest")
}

// isMaskToken reports whether v is a mask the miner wrote: "<*>", "<NAME>".
func isMaskToken(v string) bool {
	return len(v) >= 3 && v[0] == '<' && v[len(v)-1] == '>' && strings.IndexByte(v[1:len(v)-1], ' ') < 0 &&
		strings.IndexByte(v[1:len(v)-1], '<') < 0
}
