// Package fix applies suggested fixes (analysis.Edit) to the YAML files they
// came from, and renders them as unified diffs.
//
// Apply splices text: it locates the edited nodes with yaml.v3 (line and
// column) and rewrites only the lines an edit changes, so comments, key
// order, quoting and formatting of everything else stay as the user wrote
// them. After every edit it parses the result again and checks that the
// object reads exactly as the edit intends, with every other path of the
// object unchanged; an edit that would produce anything else is refused with
// an error instead of being written.
//
// What an edit does, by the shape of the YAML it lands on:
//
//   - A scalar replaced by a scalar is rewritten in place on its line; a
//     string keeps the old quoting style (plain, 'single' or "double") when
//     that style can carry the new value.
//   - A missing key is appended to its block mapping at the indentation of
//     its siblings; missing intermediate mappings are created (a null value
//     on the way counts as missing).
//   - A mapping or list value is rendered as block YAML (keys sorted) at the
//     indentation the document uses, or "{}" / "[]" when empty. Setting a
//     mapping over an existing block mapping, or a list over a block list of
//     the same length, is done key by key (item by item), so that unchanged
//     entries and their comments stay untouched.
//   - A pointer ending in "-" (or in the list's length) appends an item.
//   - Delete removes a key or list item with its nested lines, its comment
//     lines directly above and its trailing comment; the last entry of a
//     collection becomes "{}" or "[]".
//   - Flow nodes ({a: 1}, [a, b]): an edit inside one rewrites that whole
//     node, on one line and in flow style (comments inside it are lost);
//     replacing a flow node as a whole renders the new value in flow style
//     too.
//
// Only the object's own document of a multi-document file is touched, and
// new lines take the file's line breaks (CRLF stays CRLF).
package fix
