package attr

// Clone deep-copies the item, so the copy can be changed (UpdateItem works
// on one) while the original is still read.
func (it Item) Clone() Item {
	if it == nil {
		return nil
	}
	out := make(Item, len(it))
	for k, v := range it {
		out[k] = v.Clone()
	}
	return out
}

// Clone deep-copies v.
func (v Value) Clone() Value {
	switch v.Type {
	case B:
		v.B = cloneBytes(v.B)
	case M:
		if v.M != nil {
			m := make(map[string]Value, len(v.M))
			for k, e := range v.M {
				m[k] = e.Clone()
			}
			v.M = m
		}
	case L:
		if v.L != nil {
			l := make([]Value, len(v.L))
			for i, e := range v.L {
				l[i] = e.Clone()
			}
			v.L = l
		}
	case SS, NS:
		if v.SS != nil {
			v.SS = append([]string(nil), v.SS...)
		}
	case BS:
		if v.BS != nil {
			bs := make([][]byte, len(v.BS))
			for i, b := range v.BS {
				bs[i] = cloneBytes(b)
			}
			v.BS = bs
		}
	}
	return v
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}
