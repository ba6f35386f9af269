/* The protocol test vectors (tests/protocol/vectors.json, flattened by vectors_flat.py). */
#ifndef TEST_VECTORS_H
#define TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#define V_MAX_BYTES 512
#define V_MAX_FIELDS 40
#define V_MAX_BODIES 4

typedef struct {
    uint8_t data[V_MAX_BYTES];
    size_t len;
    int present; /* 0 for "-" */
} v_bytes_t;

typedef struct {
    char kind[12]; /* crc, frame, stream, negative */
    char name[40];
    char type[16]; /* frame: SAMPLES, INFO, …; negative: the expected fault */
    v_bytes_t body;
    v_bytes_t serial;
    v_bytes_t bodies[V_MAX_BODIES]; /* stream */
    int nbodies;
    char field[V_MAX_FIELDS][40]; /* frame: seq, t_us, then the type's fields */
    int nfields;
} vector_t;

/* Loads every vector; returns how many, or -1 (with a message) on a bad file. */
int vectors_load(const char *path, vector_t *out, int max);

#endif
