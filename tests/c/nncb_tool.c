/*
 * nncb_tool.c - the C side of tests/test_c_library.py: reads and writes
 * nncb model files through libnnc only (no Python).
 *
 *   nncb_tool check MODEL                  load; print "ok" or the status
 *   nncb_tool predict MODEL X N OUT        N rows of raw X -> raw predictions
 *   nncb_tool train MODEL X Y N EPOCHS BATCH OUT_MODEL
 *                                          train (shuffled epochs), save
 *
 * Raw files hold host-order values of the model's dtype (Y: float targets).
 * Exit status: 0 ok, 2 the library refused, 1 usage or I/O trouble here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnc.h"

static void *read_raw(const char *path, size_t bytes) {
    FILE *f = fopen(path, "rb");
    void *buf = f ? malloc(bytes ? bytes : 1) : NULL;
    if (!buf || fread(buf, 1, bytes, f) != bytes) {
        free(buf);
        buf = NULL;
    }
    if (f) fclose(f);
    return buf;
}

static int report(nnc_status st) {
    printf("error %s: %s\n", nnc_status_str(st), nnc_last_error());
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 3) return 1;
    nnc_model *m = NULL;
    nnc_status st = nnc_model_load(argv[2], &m);
    if (st) return report(st);
    size_t item = nnc_model_dtype(m) == NNC_FLOAT32 ? 4 : 8;
    int rc = 0;
    if (strcmp(argv[1], "check") == 0 && argc == 3) {
        printf("ok %d layers, %lld parameters, compiled %d\n", nnc_model_num_layers(m),
               (long long)nnc_model_num_params(m), nnc_model_is_compiled(m));
    } else if (strcmp(argv[1], "predict") == 0 && argc == 6) {
        int64_t n = atoll(argv[4]);
        size_t in = (size_t)n * (size_t)nnc_model_input_dim(m) * item;
        size_t out_bytes = (size_t)n * (size_t)nnc_model_output_dim(m) * item;
        void *x = read_raw(argv[3], in), *out = malloc(out_bytes);
        FILE *f = NULL;
        if (!x || !out) rc = 1;
        else if ((st = nnc_predict(m, x, n, out))) rc = report(st);
        else if (!(f = fopen(argv[5], "wb")) || fwrite(out, 1, out_bytes, f) != out_bytes) rc = 1;
        if (f) fclose(f);
        free(x);
        free(out);
    } else if (strcmp(argv[1], "train") == 0 && argc == 9) {
        int64_t n = atoll(argv[5]), epochs = atoll(argv[6]), batch = atoll(argv[7]);
        void *x = read_raw(argv[3], (size_t)n * (size_t)nnc_model_input_dim(m) * item);
        void *y = read_raw(argv[4], (size_t)n * (size_t)nnc_model_output_dim(m) * item);
        double loss = 0;
        if (!x || !y) rc = 1;
        for (int64_t e = 0; rc == 0 && e < epochs; e++) {
            if ((st = nnc_train_epoch(m, x, y, NULL, n, batch, 1, NULL, &loss))) rc = report(st);
            else printf("epoch %lld loss %.17g\n", (long long)e + 1, loss);
        }
        if (rc == 0 && (st = nnc_model_save(m, argv[8]))) rc = report(st);
        free(x);
        free(y);
    } else {
        rc = 1;
    }
    nnc_model_destroy(m);
    return rc;
}
