/* yamlwords.h - libyaml's syntax errors in words an operator can act on.
 *
 * libyaml reports "did not find expected '-' indicator" where the user
 * wrote a line indented one space off; config.c puts our sentence first
 * and keeps libyaml's own wording in parentheses (searchable, and exact
 * for the cases we do not know). */
#ifndef AOFROLL_YAMLWORDS_H
#define AOFROLL_YAMLWORDS_H

/* What the libyaml problem (and its context, may be NULL) means, or NULL
 * when the table does not know it. */
const char *yamlwords_explain(const char *problem, const char *context);

#endif
