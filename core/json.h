/* SPDX-License-Identifier: MIT */
/* core/json.h: the one JSON string writer (metrics, the trace). */
#ifndef VOLT_CORE_JSON_H
#define VOLT_CORE_JSON_H

#include <stdio.h>

/* Writes s as a JSON string: quotes, backslashes and control characters escaped. */
void volt__json_string(FILE *f, const char *s);

#endif /* VOLT_CORE_JSON_H */
