package expr

import "unicode/utf8"

type tokKind uint8

const (
	tEOF     tokKind = iota
	tIdent           // bare attribute name or keyword: [A-Za-z][A-Za-z0-9_]*
	tName            // #name placeholder
	tValue           // :value placeholder
	tNumber          // list index: 0 or [1-9][0-9]*
	tPunct           // = <> < <= > >= ( ) [ ] , . + -
	tIllegal         // any other character (one rune)
)

// token is one lexeme; pos/end are byte offsets into the source so syntax
// errors can quote the surrounding text exactly as DynamoDB does.
type token struct {
	kind     tokKind
	text     string
	pos, end int
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isWordChar(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '_'
}

// lex splits s into tokens, always ending with one tEOF token. It never fails:
// characters outside the language become tIllegal tokens and the parser reports
// them as a syntax error at the right place.
func lex(s string) []token {
	toks := make([]token, 0, len(s)/3+2)
	i := 0
	for i < len(s) {
		c := s[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case isLetter(c):
			for i < len(s) && isWordChar(s[i]) {
				i++
			}
			toks = append(toks, token{tIdent, s[start:i], start, i})
			continue
		case c == '#' || c == ':':
			i++
			for i < len(s) && isWordChar(s[i]) {
				i++
			}
			kind := tName
			if c == ':' {
				kind = tValue
			}
			if i == start+1 {
				kind = tIllegal // a lone '#' or ':'
			}
			toks = append(toks, token{kind, s[start:i], start, i})
			continue
		case isDigit(c):
			// DynamoDB reads "01" as two numbers, 0 and 1, so a leading zero
			// ends the number.
			i++
			if c != '0' {
				for i < len(s) && isDigit(s[i]) {
					i++
				}
			}
			toks = append(toks, token{tNumber, s[start:i], start, i})
			continue
		case c == '<':
			i++
			if i < len(s) && (s[i] == '=' || s[i] == '>') {
				i++
			}
		case c == '>':
			i++
			if i < len(s) && s[i] == '=' {
				i++
			}
		case c == '=' || c == '(' || c == ')' || c == '[' || c == ']' || c == ',' || c == '.' || c == '+' || c == '-':
			i++
		default:
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
			toks = append(toks, token{tIllegal, s[start:i], start, i})
			continue
		}
		toks = append(toks, token{tPunct, s[start:i], start, i})
	}
	return append(toks, token{tEOF, "<EOF>", len(s), len(s)})
}
