/*
 * nnc_lbfgs_impl.h - torch.optim.LBFGS.step(closure), a template
 * (nnc_template.h) that nnc_lbfgs.c instantiates.
 *
 * Vectors are kept in the parameters' dtype as torch keeps them; scalars
 * (dot products, step lengths, losses) are doubles, which for float64 is
 * exactly torch's arithmetic. The control flow (history update, two-loop
 * recursion, break conditions, strong-Wolfe bracketing and zoom) follows
 * torch/optim/lbfgs.py decision for decision, including its quirks: the
 * line search uses its own tolerance_change of 1e-9, and its evaluation
 * budget is max_eval minus the evaluations already made in this step.
 */

static double NNC_SFX(dot)(const NNC_REAL *a, const NNC_REAL *b, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * (double)b[i];
    return s;
}

/* max |a_i|, NaN-propagating like torch's max(). */
static double NNC_SFX(absmax)(const NNC_REAL *a, int64_t n) {
    double m = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double v = fabs((double)a[i]);
        if (v > m || v != v) m = v;
        if (m != m) break;
    }
    return m;
}

/* sum |a_i| (torch's flat_grad.abs().sum()). */
static double NNC_SFX(abssum)(const NNC_REAL *a, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += fabs((double)a[i]);
    return s;
}

/* max |t a_i| with the product rounded in the element type (torch's
 * d.mul(t).abs().max()). */
static double NNC_SFX(absmax_scaled)(const NNC_REAL *a, double t, int64_t n) {
    const NNC_REAL tr = (NNC_REAL)t;
    double m = 0.0;
    for (int64_t i = 0; i < n; i++) {
        NNC_REAL p = a[i] * tr;
        double v = fabs((double)p);
        if (v > m || v != v) m = v;
        if (m != m) break;
    }
    return m;
}

/* f and its gradient at x0 + t d (torch's _directional_evaluate). The
 * params are put back to x0 afterwards, also when f fails. */
static nnc_status NNC_SFX(eval_at)(NNC_REAL *p, const NNC_REAL *x0, double t, const NNC_REAL *d,
                                   int64_t n, nnc__objective f, void *ctx, double *loss,
                                   NNC_REAL *g) {
    const NNC_REAL tr = (NNC_REAL)t;
    for (int64_t i = 0; i < n; i++) p[i] = x0[i] + tr * d[i];
    nnc_status st = f(ctx, loss, g);
    memcpy(p, x0, (size_t)n * sizeof(NNC_REAL));
    return st;
}

/* Strong-Wolfe line search from x0 (= the params, saved in lb->x0) along
 * d. On entry *t is the first trial step; f0, g0, gtd0 are the loss,
 * gradient and directional derivative at x0. On success *t, *f_out and g0
 * (overwritten) describe the accepted point and *evals counts the calls
 * to f; the params are left at x0. */
static nnc_status NNC_SFX(strong_wolfe)(nnc__optim *o, NNC_REAL *p, nnc__objective fn, void *ctx,
                                       double *t_io, double f0, NNC_REAL *g0, double gtd0,
                                       int64_t max_ls, double *f_out, int64_t *evals) {
    const double c1 = 1e-4, c2 = 0.9, tol_change = 1e-9;
    const int64_t n = o->n;
    const size_t vb = (size_t)n * sizeof(NNC_REAL);
    const NNC_REAL *x0 = (const NNC_REAL *)o->lb.x0, *d = (const NNC_REAL *)o->lb.d;
    /* four distinct scratch vectors, exchanged by pointer below */
    NNC_REAL *gn = (NNC_REAL *)o->lb.ls[0], *gp_buf = (NNC_REAL *)o->lb.ls[1];
    NNC_REAL *bg[2] = {(NNC_REAL *)o->lb.ls[2], (NNC_REAL *)o->lb.ls[3]};
    const NNC_REAL *gp = g0;
    NNC_REAL *tmpv;
    nnc_status st;

    double d_norm = NNC_SFX(absmax)(d, n);
    double t = *t_io, f_new;
    st = NNC_SFX(eval_at)(p, x0, t, d, n, fn, ctx, &f_new, gn);
    if (st != NNC_OK) return st;
    int64_t ls_evals = 1;
    double gtd_new = NNC_SFX(dot)(gn, d, n);

    /* bracket an interval containing a point satisfying the conditions */
    double t_prev = 0.0, f_prev = f0, gtd_prev = gtd0;
    double br[2] = {0.0, 0.0}, brf[2] = {0.0, 0.0}, brgtd[2] = {0.0, 0.0};
    int nb = 0, done = 0;
    int64_t ls_iter = 0;
    while (ls_iter < max_ls) {
        int two = 0;
        if (f_new > f0 + c1 * t * gtd0 || (ls_iter > 1 && f_new >= f_prev)) {
            two = 1;
        } else if (fabs(gtd_new) <= -c2 * gtd0) {
            br[0] = t;
            brf[0] = f_new;
            tmpv = bg[0], bg[0] = gn, gn = tmpv;
            nb = 1;
            done = 1;
            break;
        } else if (gtd_new >= 0) {
            two = 1;
        }
        if (two) {
            br[0] = t_prev, br[1] = t;
            brf[0] = f_prev, brf[1] = f_new;
            brgtd[0] = gtd_prev, brgtd[1] = gtd_new;
            memcpy(bg[0], gp, vb);
            tmpv = bg[1], bg[1] = gn, gn = tmpv;
            nb = 2;
            break;
        }
        /* extrapolate by cubic interpolation within [t + 0.01 (t - t_prev), 10 t] */
        double bounds[2] = {t + 0.01 * (t - t_prev), t * 10};
        double tmp = t;
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds);
        t_prev = tmp;
        f_prev = f_new;
        tmpv = gp_buf, gp_buf = gn, gn = tmpv;
        gp = gp_buf;
        gtd_prev = gtd_new;
        st = NNC_SFX(eval_at)(p, x0, t, d, n, fn, ctx, &f_new, gn);
        if (st != NNC_OK) return st;
        ls_evals++;
        gtd_new = NNC_SFX(dot)(gn, d, n);
        ls_iter++;
    }
    if (ls_iter == max_ls) { /* budget exhausted: bracket [0, t] */
        br[0] = 0.0, br[1] = t;
        brf[0] = f0, brf[1] = f_new;
        brgtd[0] = gtd0, brgtd[1] = gtd_new; /* unused by torch here */
        memcpy(bg[0], g0, vb);
        tmpv = bg[1], bg[1] = gn, gn = tmpv;
        nb = 2;
    }

    /* zoom: shrink the bracket until a point satisfies the conditions */
    int insuf_progress = 0;
    int low = brf[0] <= brf[nb - 1] ? 0 : 1, high = 1 - low;
    while (!done && ls_iter < max_ls) {
        if (fabs(br[1] - br[0]) * d_norm < tol_change) break;
        t = cubic_interpolate(br[0], brf[0], brgtd[0], br[1], brf[1], brgtd[1], NULL);
        double bmax = py_max(br[0], br[1]), bmin = py_min(br[0], br[1]);
        double eps = 0.1 * (bmax - bmin);
        if (py_min(bmax - t, t - bmin) < eps) {
            /* too close to an end: after two such steps, or outside the
             * bracket, move to 0.1 of its length from the nearest end */
            if (insuf_progress || t >= bmax || t <= bmin) {
                if (fabs(t - bmax) < fabs(t - bmin))
                    t = bmax - eps;
                else
                    t = bmin + eps;
                insuf_progress = 0;
            } else {
                insuf_progress = 1;
            }
        } else {
            insuf_progress = 0;
        }
        st = NNC_SFX(eval_at)(p, x0, t, d, n, fn, ctx, &f_new, gn);
        if (st != NNC_OK) return st;
        ls_evals++;
        gtd_new = NNC_SFX(dot)(gn, d, n);
        ls_iter++;

        if (f_new > f0 + c1 * t * gtd0 || f_new >= brf[low]) {
            /* Armijo fails or no lower than the low end: new high end */
            br[high] = t;
            brf[high] = f_new;
            tmpv = bg[high], bg[high] = gn, gn = tmpv;
            brgtd[high] = gtd_new;
            low = brf[0] <= brf[1] ? 0 : 1;
            high = 1 - low;
        } else {
            if (fabs(gtd_new) <= -c2 * gtd0) {
                done = 1;
            } else if (gtd_new * (br[high] - br[low]) >= 0) {
                /* the old low end becomes the high end */
                br[high] = br[low];
                brf[high] = brf[low];
                tmpv = bg[high], bg[high] = bg[low], bg[low] = tmpv;
                brgtd[high] = brgtd[low];
            }
            /* the new point becomes the low end */
            br[low] = t;
            brf[low] = f_new;
            tmpv = bg[low], bg[low] = gn, gn = tmpv;
            brgtd[low] = gtd_new;
        }
    }
    *t_io = br[low];
    *f_out = brf[low];
    memcpy(g0, bg[low], vb);
    *evals = ls_evals;
    return NNC_OK;
}

static nnc_status NNC_SFX(lbfgs_run)(nnc__optim *o, NNC_REAL *p, nnc__objective f, void *ctx,
                                    double *first_loss) {
    nnc__lbfgs *L = &o->lb;
    const nnc_optimizer_config *c = &o->cfg;
    const int64_t n = o->n;
    const size_t vb = (size_t)n * sizeof(NNC_REAL), stride = nnc__optim_vec_stride(o);
    const double lr = c->learning_rate;
    const double tol_grad = c->tolerance_grad, tol_change = c->tolerance_change;
    const int64_t max_iter = c->max_iter;
    const int64_t max_eval = c->max_eval > 0 ? c->max_eval : max_iter * 5 / 4;
    const int64_t hsize = c->history_size;
    const int wolfe = c->line_search_strong_wolfe != 0;
    NNC_REAL *g = (NNC_REAL *)L->grad, *d = (NNC_REAL *)L->d, *pg = (NNC_REAL *)L->prev_grad;
    NNC_REAL *x0 = (NNC_REAL *)L->x0;
    nnc_status st;

    /* Every history slot this step could fill is allocated before anything
     * changes, so running out of memory leaves params and state intact. */
    st = nnc__lbfgs_reserve(o, L->count + max_iter);
    if (st != NNC_OK) return st;

    double loss;
    st = f(ctx, &loss, g);
    if (st != NNC_OK) return st;
    *first_loss = loss;
    int64_t current_evals = 1;
    L->func_evals++;
    const double g_max = NNC_SFX(absmax)(g, n);
    /* torch would go on from a non-finite start and spend the whole budget
     * (max_iter iterations of NaN) before its caller notices; nothing can
     * come of it, so stop at once (nnc_train.c rolls the step back). */
    if (!isfinite(loss) || !isfinite(g_max))
        return nnc__fail(NNC_ERR_NONFINITE,
                         "the loss became %g (or its gradient non-finite) at the start of an "
                         "L-BFGS step", loss);
    if (g_max <= tol_grad) return NNC_OK;

    double t = L->t, h_diag = L->h_diag, prev_loss = L->prev_loss;
    int opt_cond = 0;
    int64_t n_iter = 0;
    while (n_iter < max_iter) {
        n_iter++;
        L->n_iter++;

        /* ---- direction */
        if (L->n_iter == 1) {
            for (int64_t i = 0; i < n; i++) d[i] = -g[i];
            L->count = 0;
            h_diag = 1.0;
        } else {
            /* y = g - prev_g, s = t d; kept only when y.s > 1e-10 */
            const NNC_REAL tr = (NNC_REAL)t;
            double ys = 0.0, yy = 0.0;
            for (int64_t i = 0; i < n; i++) {
                NNC_REAL yi = g[i] - pg[i], si = d[i] * tr;
                ys += (double)yi * (double)si;
                yy += (double)yi * (double)yi;
            }
            if (ys > 1e-10) {
                nnc__lbfgs_pair pr;
                if (L->count == hsize) { /* drop the oldest pair, reuse its slot */
                    pr = L->hist[0];
                    memmove(L->hist, L->hist + 1, (size_t)(L->count - 1) * sizeof *L->hist);
                    L->count--;
                } else {
                    pr = L->hist[L->count]; /* a spare slot (reserved above) */
                }
                NNC_REAL *y = (NNC_REAL *)pr.slot;
                NNC_REAL *s = (NNC_REAL *)((unsigned char *)pr.slot + stride);
                for (int64_t i = 0; i < n; i++) {
                    y[i] = g[i] - pg[i];
                    s[i] = d[i] * tr;
                }
                pr.ro = 1.0 / ys;
                L->hist[L->count++] = pr;
                h_diag = ys / yy;
            }
            /* two-loop recursion, in place in d: d = -H g */
            const int64_t m = L->count;
            for (int64_t i = 0; i < n; i++) d[i] = -g[i];
            for (int64_t k = m - 1; k >= 0; k--) {
                const NNC_REAL *y = (const NNC_REAL *)L->hist[k].slot;
                const NNC_REAL *s =
                    (const NNC_REAL *)((const unsigned char *)L->hist[k].slot + stride);
                double al = NNC_SFX(dot)(s, d, n) * L->hist[k].ro;
                L->hist[k].al = al;
                const NNC_REAL a = (NNC_REAL)(-al);
                for (int64_t i = 0; i < n; i++) d[i] = d[i] + a * y[i];
            }
            const NNC_REAL hd = (NNC_REAL)h_diag;
            for (int64_t i = 0; i < n; i++) d[i] = d[i] * hd;
            for (int64_t k = 0; k < m; k++) {
                const NNC_REAL *y = (const NNC_REAL *)L->hist[k].slot;
                const NNC_REAL *s =
                    (const NNC_REAL *)((const unsigned char *)L->hist[k].slot + stride);
                double be = NNC_SFX(dot)(y, d, n) * L->hist[k].ro;
                const NNC_REAL a = (NNC_REAL)(L->hist[k].al - be);
                for (int64_t i = 0; i < n; i++) d[i] = d[i] + a * s[i];
            }
        }
        memcpy(pg, g, vb);
        prev_loss = loss;

        /* ---- step length */
        if (L->n_iter == 1) {
            double inv = 1.0 / NNC_SFX(abssum)(g, n);
            t = (inv < 1.0 ? inv : 1.0) * lr;
        } else {
            t = lr;
        }
        double gtd = NNC_SFX(dot)(g, d, n);
        if (gtd > -tol_change) break; /* not a descent direction */

        int64_t ls_evals = 0;
        memcpy(x0, p, vb); /* origin of the line search, and where to go back if f fails */
        if (wolfe) {
            st = NNC_SFX(strong_wolfe)(o, p, f, ctx, &t, loss, g, gtd, max_eval - current_evals,
                                      &loss, &ls_evals);
            if (st == NNC_OK && isnan(loss)) {
                memcpy(p, x0, vb);
                st = nnc__fail(NNC_ERR_NONFINITE, "the loss became NaN in an L-BFGS line search");
            }
            if (st != NNC_OK) goto fail;
            const NNC_REAL tr = (NNC_REAL)t;
            for (int64_t i = 0; i < n; i++) p[i] = x0[i] + tr * d[i];
            opt_cond = NNC_SFX(absmax)(g, n) <= tol_grad;
        } else {
            const NNC_REAL tr = (NNC_REAL)t;
            for (int64_t i = 0; i < n; i++) p[i] = p[i] + tr * d[i];
            if (n_iter != max_iter) { /* torch skips the evaluation after the last one */
                st = f(ctx, &loss, g);
                if (st == NNC_OK && isnan(loss)) /* NaN never compares: nothing would stop it */
                    st = nnc__fail(NNC_ERR_NONFINITE, "the loss became NaN in an L-BFGS step");
                if (st != NNC_OK) {
                    memcpy(p, x0, vb);
                    goto fail;
                }
                opt_cond = NNC_SFX(absmax)(g, n) <= tol_grad;
                ls_evals = 1;
            }
        }
        current_evals += ls_evals;
        L->func_evals += ls_evals;

        /* ---- stopping conditions */
        if (n_iter == max_iter) break;
        if (current_evals >= max_eval) break;
        if (opt_cond) break;
        if (NNC_SFX(absmax_scaled)(d, t, n) <= tol_change) break; /* no progress in x */
        if (fabs(loss - prev_loss) < tol_change) break;          /* no progress in f */
    }
    L->t = t;
    L->h_diag = h_diag;
    L->prev_loss = prev_loss;
    return NNC_OK;

fail:
    /* The params are back at the start of the failed iteration, where
     * prev_grad was measured: a later step sees y = 0 and skips the pair. */
    L->t = t;
    L->h_diag = h_diag;
    L->prev_loss = prev_loss;
    return st;
}
