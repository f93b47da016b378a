/*
 * fuzz_nncb.c - the libFuzzer target of the nncb reader
 * (nnc_model_deserialize, the code nnc_model_load and Python's load_model
 * run on every nncb file). Any input must be refused with a status or
 * accepted as a model whose re-serialization reads back to the same bytes;
 * the sanitizers catch every memory error and leak. Run bounded by
 * tests/engine/test_fuzz_nncb.py on the committed corpus (tests/c/nncb_corpus/).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nnc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nnc_model *m = NULL;
    if (nnc_model_deserialize(data, (int64_t)size, &m) != NNC_OK) return 0;
    int64_t n = 0;
    if (nnc_model_serialized_size(m, &n) != NNC_OK) __builtin_trap();
    unsigned char *again = malloc((size_t)n);
    if (!again || nnc_model_serialize(m, again, n) != NNC_OK) __builtin_trap();
    nnc_model *back = NULL;
    if (nnc_model_deserialize(again, n, &back) != NNC_OK) __builtin_trap(); /* what we write we read */
    nnc_model_destroy(back);
    free(again);
    nnc_model_destroy(m);
    return 0;
}
