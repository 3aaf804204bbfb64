package drain

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
	"unicode/utf8"
)

// splitRef is the splitter before it computed the tokens' sigs (appending
// to dst, a token at a time: no splitPlain), kept as the reference of
// TestSplitRef and FuzzSplit.
func (t *drain3Tokenizer) splitRef(dst []string, line string) (toks []string, ok, trunc bool) {
	cls := &t.cls
	i, n := 0, len(line)
	for {
		for i < n && cls[line[i]] == clsSpace {
			i++
		}
		if i >= n {
			return dst, true, false
		}
		if cls[line[i]] == clsSpecial {
			r, size := utf8.DecodeRuneInString(line[i:])
			if r == 0 || r == utf8.RuneError && size == 1 {
				return dst, false, false
			}
			if isPySpace(r) {
				i += size
				continue
			}
		}
		if len(dst) == t.maxTokens {
			return dst, validRest(line[i:]), true
		}
		start := i
		if i, ok = t.tokenEnd(line, i); !ok {
			return dst, false, false
		}
		dst = append(dst, line[start:i])
	}
}

// splitters: the drain3 tokenizer with and without a one-byte extra
// delimiter (the 8-byte scan off), with few and many tokens allowed.
func splitters(t testing.TB) []*drain3Tokenizer {
	var tks []*drain3Tokenizer
	for _, delims := range [][]string{nil, {":"}} {
		for _, maxT := range []int{3, 1000} {
			cfg, _ := Preset("drain3")
			cfg.ExtraDelimiters, cfg.MaxTokens = delims, maxT
			tks = append(tks, newDrain3Tokenizer(&cfg).(*drain3Tokenizer))
		}
	}
	return tks
}

// diffSplit compares split (reusing toks and sigs) with splitRef on line,
// and every sig with sig of its token.
func diffSplit(t *testing.T, tk *drain3Tokenizer, line string, toks []string, sigs []uint64) ([]string, []uint64) {
	t.Helper()
	want, wok, wtrunc := tk.splitRef(nil, line)
	got, hs, ok, trunc := tk.split(toks, sigs, line)
	if ok != wok || ok && (trunc != wtrunc || !slices.Equal(got, want)) {
		t.Fatalf("split(%q) = %q, %v, %v; want %q, %v, %v", line, got, ok, trunc, want, wok, wtrunc)
	}
	if len(hs) != len(got) {
		t.Fatalf("split(%q): %d tokens, %d sigs", line, len(got), len(hs))
	}
	for i, tok := range got {
		if hs[i] != sig(tok) {
			t.Fatalf("split(%q): sig of %q %x; sig() %x", line, tok, hs[i], sig(tok))
		}
	}
	return got, hs
}

// TestSplitRef: the splitter and its sigs against splitRef and sig, on
// tokens of every length from 0 to 20 bytes at every offset near the end of
// the line (where the sig's word reads stop), with the slices reused.
func TestSplitRef(t *testing.T) {
	var toks []string
	var sigs []uint64
	for _, tk := range splitters(t) {
		for l := 0; l <= 20; l++ {
			for pad := 0; pad <= 10; pad++ {
				for _, sep := range []string{" ", "\t ", ":", "\u3000", "é"} {
					tok := "abcdefghijklmnopqrstuvwxyz"[:l]
					line := tok + sep + tok[:l/2] + sep + "xy" + sep + tok + "          "[:pad]
					toks, sigs = diffSplit(t, tk, line, toks, sigs)
					toks, sigs = diffSplit(t, tk, line[:len(line)-pad], toks, sigs)
				}
			}
		}
		// Random lines of plain bytes with the ones the 8-byte loop stops
		// at ('!' after a space, other spaces, control bytes, non-ASCII)
		// at every place.
		r := rand.New(rand.NewPCG(1, 2))
		const bytes = "ab~\x7f        !\t\x01\x1f\x00\xc3\xa9:"
		var b []byte
		for range 20000 {
			b = b[:0]
			for n := r.IntN(40); len(b) < n; {
				if r.IntN(4) == 0 {
					b = append(b, bytes[r.IntN(len(bytes))])
				} else {
					b = append(b, bytes[r.IntN(3)])
				}
			}
			toks, sigs = diffSplit(t, tk, string(b), toks, sigs)
		}
		toks, sigs = diffSplit(t, tk, "a\x00b c", toks, sigs)
		toks, sigs = diffSplit(t, tk, "a b \xff c", toks, sigs)
	}
}

// FuzzSplit: split against splitRef on any line, for each splitter, the
// slices reused from line to line.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"", "a", " a  b ", "abcdefgh ijklmnop", "x\u3000y\u00a0z", "\x00", "\xff a", "1 2 3 4 5 6 7 8 9", "abcdefgh ijklmnopq r !s", "abcdefghijklmnop a  b\tc"} {
		f.Add(s)
	}
	tks := splitters(f)
	var toks []string
	var sigs []uint64
	f.Fuzz(func(t *testing.T, line string) {
		for _, tk := range tks {
			toks, sigs = diffSplit(t, tk, line, toks, sigs)
		}
	})
}

// TestPlainMarks: (x | x-swarLows) & swarHighs, the splitter's marks,
// puts its lowest mark on the first byte not in 0x21..0x7f, for every byte
// value at every place of a word of plain bytes, and whatever follows it.
func TestPlainMarks(t *testing.T) {
	for at := range 8 {
		for b := range 256 {
			for _, after := range []byte{'a', 0x21, 0x7f, 0x00, 0xff} {
				var w [8]byte
				for i := range w {
					w[i] = 'a'
					if i > at {
						w[i] = after
					}
				}
				w[at] = byte(b)
				x := binary.LittleEndian.Uint64(w[:])
				want := 64
				for i, c := range w {
					if c < 0x21 || c > 0x7f {
						want = 8*i + 7
						break
					}
				}
				if m := (x | (x - swarLows)) & swarHighs; bits.TrailingZeros64(m) != want {
					t.Fatalf("% x: lowest mark at bit %d, want %d", w, bits.TrailingZeros64(m), want)
				}
			}
		}
	}
}
