/*
 * xor.c - nnc as a plain C library: build a 2-8-1 network, train it on XOR
 * with Adam and binary cross-entropy, print the loss and the predictions,
 * and save the trained model in the nncb format (readable from Python with
 * nnc.load_binary) when a path is given.
 *
 * Build (see examples/c/README.md):
 *   make -C csrc
 *   cc -std=c11 -O2 -Icsrc/build/include examples/c/xor.c csrc/build/libnnc.a -lm -pthread -o xor
 *   ./xor [model.nncb]
 */
#include <stdio.h>

#include "nnc.h"

/* Print the failing call and the engine's message, then leave main. */
#define CHECK(call)                                                                \
    do {                                                                           \
        nnc_status st_ = (call);                                                   \
        if (st_ != NNC_OK) {                                                       \
            fprintf(stderr, "%s: %s (%s)\n", #call, nnc_status_str(st_), nnc_last_error()); \
            nnc_model_destroy(model);                                              \
            return 1;                                                              \
        }                                                                          \
    } while (0)

int main(int argc, char **argv) {
    const double x[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
    const double y[4][1] = {{0}, {1}, {1}, {0}};
    nnc_model *model = NULL;

    nnc_layer_spec layers[2];
    nnc_layer_spec_default(&layers[0], 8, NNC_ACT_TANH);
    nnc_layer_spec_default(&layers[1], 1, NNC_ACT_SIGMOID);
    CHECK(nnc_model_create(NNC_FLOAT64, 2, 2, layers, /*seed=*/42, &model));

    nnc_optimizer_config adam;
    nnc_optimizer_config_default(&adam, NNC_OPT_ADAM);
    adam.learning_rate = 0.05;
    CHECK(nnc_model_compile(model, NNC_LOSS_BINARY_CROSSENTROPY, 0.0, &adam));
    printf("nnc %d.%d.%d, kernels: %s, %lld parameters\n", NNC_VERSION_MAJOR,
           NNC_VERSION_MINOR, NNC_VERSION_PATCH, nnc_kernel_arch(),
           (long long)nnc_model_num_params(model));

    for (int epoch = 1; epoch <= 500; epoch++) {
        double loss = 0.0;
        /* Full batch (batch_size 0), no shuffling, no progress record. */
        CHECK(nnc_train_epoch(model, x, y, NULL, 4, 0, 0, NULL, &loss));
        if (epoch == 1 || epoch % 100 == 0) printf("epoch %3d  loss %.6f\n", epoch, loss);
    }

    double pred[4][1];
    CHECK(nnc_predict(model, x, 4, pred));
    for (int i = 0; i < 4; i++)
        printf("%g xor %g -> %.4f\n", x[i][0], x[i][1], pred[i][0]);

    if (argc > 1) {
        CHECK(nnc_model_save(model, argv[1]));
        printf("saved %s\n", argv[1]);
    }
    nnc_model_destroy(model);
    return 0;
}
