/* Reader for the flat vectors file. */
#include "vectors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hex(v_bytes_t *b, const char *text)
{
    b->len = 0;
    b->present = strcmp(text, "-") != 0;
    if (!b->present) {
        return 0;
    }
    size_t n = strlen(text);
    if (n % 2 || n / 2 > V_MAX_BYTES) {
        return -1;
    }
    for (size_t i = 0; i < n; i += 2) {
        unsigned int byte;
        if (sscanf(text + i, "%2x", &byte) != 1) {
            return -1;
        }
        b->data[b->len++] = (uint8_t)byte;
    }
    return 0;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

int vectors_load(const char *path, vector_t *out, int max)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    static char line[8192];
    int count = 0;
    while (count < max && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *tok[V_MAX_FIELDS + 8];
        int n = 0;
        for (char *t = strtok(line, " "); t && n < V_MAX_FIELDS + 8; t = strtok(NULL, " ")) {
            tok[n++] = t;
        }
        if (n == 0) {
            continue;
        }
        vector_t *v = &out[count];
        memset(v, 0, sizeof *v);
        copy(v->kind, sizeof v->kind, tok[0]);
        int bad = 0;
        if (!strcmp(v->kind, "crc") && n == 3) {
            bad |= hex(&v->body, tok[1]);
            copy(v->type, sizeof v->type, tok[2]);
        } else if (!strcmp(v->kind, "frame") && n >= 7) {
            copy(v->name, sizeof v->name, tok[1]);
            copy(v->type, sizeof v->type, tok[2]);
            bad |= hex(&v->body, tok[3]) | hex(&v->serial, tok[4]);
            for (int i = 5; i < n; i++) {
                copy(v->field[v->nfields++], sizeof v->field[0], tok[i]);
            }
        } else if (!strcmp(v->kind, "stream") && n >= 3 && n - 3 <= V_MAX_BODIES) {
            copy(v->name, sizeof v->name, tok[1]);
            bad |= hex(&v->serial, tok[2]);
            for (int i = 3; i < n; i++) {
                bad |= hex(&v->bodies[v->nbodies++], tok[i]);
            }
        } else if (!strcmp(v->kind, "negative") && n == 5) {
            copy(v->name, sizeof v->name, tok[1]);
            bad |= hex(&v->body, tok[2]) | hex(&v->serial, tok[3]);
            copy(v->type, sizeof v->type, tok[4]);
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "%s: bad line %d (%s)\n", path, count + 1, v->kind);
            fclose(f);
            return -1;
        }
        count++;
    }
    fclose(f);
    return count;
}
