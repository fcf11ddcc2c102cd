/* yamlwords.c - a table from libyaml's syntax problems (scanner.c and
 * parser.c of libyaml 0.2.5) to what they mean in an aofroll.yaml. See
 * yamlwords.h. The first row whose problem (and context, when the row
 * names one) matches is taken. */
#include "yamlwords.h"

#include <string.h>

struct yamlwords_row {
    const char *problem; /* libyaml's, exactly */
    const char *context; /* NULL: any */
    const char *words;
};

static const struct yamlwords_row yamlwords_rows[] = {
    {"did not find expected '-' indicator", NULL,
     "this line is not indented like the list items above it (each item starts with \"- \" in the same "
     "column, its keys two columns further in)"},
    {"did not find expected key", NULL,
     "this line is not indented like the keys above it, or the line before holds a value that needs "
     "quotes"},
    {"mapping values are not allowed in this context", NULL,
     "a second \": \" on one line: put the key on a line of its own, or quote a value that holds \": \""},
    {"could not find expected ':'", NULL, "a key without \":\" after it (write \"key: value\")"},
    {"found character that cannot start any token", NULL,
     "a character that cannot begin a value here: a tab in the indentation (YAML indents with spaces "
     "only), or a value starting with @ or ` that needs quotes"},
    {"found a tab character that violates indentation", NULL,
     "a tab in the indentation: YAML indents with spaces only"},
    {"found a tab character where an indentation space is expected", NULL,
     "a tab in the indentation: YAML indents with spaces only"},
    {"found unexpected end of stream", "while scanning a quoted scalar",
     "a quoted value is never closed: the file ends inside it"},
    {"found unexpected end of stream", NULL, "the file ends too early: a bracket or a quote is not closed"},
    {"did not find expected ',' or ']'", NULL, "a list in [...] is not closed, or two items lack a comma"},
    {"did not find expected ',' or '}'", NULL, "a mapping in {...} is not closed, or two keys lack a comma"},
    {"did not find expected node content", NULL, "a value is missing here"},
    {"found undefined alias", NULL, "an alias (*name) with no anchor (&name) before it"},
    {"found unknown escape character", NULL,
     "an unknown escape in a double-quoted value: write \\\\ for a backslash, or use single quotes"},
    {"block sequence entries are not allowed in this context", NULL,
     "a list item (\"- \") where a value was expected: start the list on the next line, indented"},
    {"found duplicate %YAML directive", NULL, "two %YAML lines"},
};

const char *yamlwords_explain(const char *problem, const char *context)
{
    size_t i;

    if (problem == NULL)
        return NULL;
    for (i = 0; i < sizeof(yamlwords_rows) / sizeof(yamlwords_rows[0]); i++) {
        const struct yamlwords_row *r = &yamlwords_rows[i];

        if (strcmp(r->problem, problem) != 0)
            continue;
        if (r->context != NULL && (context == NULL || strcmp(r->context, context) != 0))
            continue;
        return r->words;
    }
    return NULL;
}
