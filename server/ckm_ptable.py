#!/usr/bin/env python3
# ckm_ptable.py - builds the cell key method's perturbation table.
#
#   python3 server/ckm_ptable.py                 the table pcmdsd uses, as CSV
#   python3 server/ckm_ptable.py --c             the same as C initialisers
#   python3 server/ckm_ptable.py --D 2 --V 1.05 --js 1 --mono TTFT
#                                                any other table (pt_ex_cnts())
#
# Python 3 standard library only. The table is the one R's ptable package
# (version 1.0.0, create_cnt_ptable(D, V, js, optim = 1, mono = TRUE)) makes
# by maximum entropy: for each original count i, noise v with i + v in
# [max(0, i - D), i + D], no perturbed value in 1..js, probabilities p that
# sum to 1, mean 0 (unbiased), variance at most V, p non-decreasing from
# v = -D up to v = 0, and -sum p log p as large as possible. The optimum has
# the closed form p(v) proportional to exp(a v + b v^2) on the allowed
# values (b = 0 unless the variance bound binds), neighbours tied where the
# monotony constraint is active; a and b come from Newton's method on the
# convex dual. This reproduces ptable 1.0.0 to within 1e-6 in every p, lb
# and ub, including its example table pt_ex_cnts() (tests/test_ckm.c).
#
# Layout (as ptable's): i,j,p,v,p_int_lb,p_int_ub; row i = 0 is v = 0 with
# p = 1 (zeros are never perturbed); the last row serves every count at or
# above it. lb and ub are the running sums of p over v ascending, to 8
# decimals as ptable writes them; a cell key u in [0, 1) takes the first
# line of its row with u < ub.
#
# Sources: Enderle, Giessing, Tent, "ptable: Generation of Perturbation
# Tables for the Cell-Key Method", R package 1.0.0 (CRAN, 2023), files
# R/pt_create_pTable.R and R/pt_optim_entropy.R; Handbook on Statistical
# Disclosure Control, 2nd ed., chapter 5.4 "Cell key method" (sdcTools,
# HandbookSDC); ONS, cell-key-perturbation (ONSdigital, Python and R),
# for record keys and cell keys summed modulo the key range.
import argparse
import math
import sys

# The table pcmdsd uses: see README ("Disclosure control") for why.
D, V, JS = 3, 2.0, 0


def row(i, d, var, js, mono=True):
    s = [v for v in range(-min(i, d), d + 1) if not 1 <= i + v <= js]
    if s == [0]:
        return s, [1.0]
    if not (s[0] < 0 < s[-1]) or (0 not in s and -max(v for v in s if v < 0)
                                  * min(v for v in s if v > 0) > var):
        raise ValueError("infeasible (D, V, js) for count %d" % i)
    groups = [[v] for v in s]          # tied neighbours share one probability
    while True:
        f = [(sum(g) / len(g), sum(v * v for v in g) / len(g))
             for g in groups for _ in g]

        def probs(a, b):
            e = [a * x + b * y for x, y in f]
            m = max(e)
            w = [math.exp(t - m) for t in e]
            return [t / sum(w) for t in w]

        def newton(use_b):             # E[v] = 0 (and E[v^2] = V)
            a = b = 0.0

            def dual(a, b):
                return math.log(sum(math.exp(a * x + b * y) for x, y in f)) \
                    - (b * var if use_b else 0)
            for _ in range(300):
                p = probs(a, b)
                m1 = sum(q * x for q, (x, _) in zip(p, f))
                m2 = sum(q * y for q, (_, y) in zip(p, f))
                c11 = sum(q * (x - m1) ** 2 for q, (x, _) in zip(p, f))
                c12 = sum(q * (x - m1) * (y - m2) for q, (x, y) in zip(p, f))
                c22 = sum(q * (y - m2) ** 2 for q, (_, y) in zip(p, f))
                g2 = m2 - var if use_b else 0.0
                if abs(m1) < 1e-14 and abs(g2) < 1e-14:
                    break
                if use_b:
                    det = c11 * c22 - c12 * c12
                    da = -(c22 * m1 - c12 * g2) / det
                    db = -(c11 * g2 - c12 * m1) / det
                else:
                    da, db = -m1 / c11, 0.0
                t = 1.0                # damped Newton on the convex dual
                while dual(a + t * da, b + t * db) > dual(a, b) + 1e-15 \
                        and t > 1e-12:
                    t /= 2
                a, b = a + t * da, b + t * db
            return probs(a, b)
        p = newton(False)              # V bounds the variance: impose it
        if sum(q * v * v for q, v in zip(p, s)) > var:   # only if exceeded
            p = newton(True)
        if not mono:
            return s, p
        k = 0
        for gi in range(len(groups) - 1):   # non-decreasing up to v = 0
            k += len(groups[gi])
            if min(groups[gi + 1]) <= 0 and p[k - 1] > p[k] + 1e-12:
                groups[gi:gi + 2] = [groups[gi] + groups[gi + 1]]
                break
        else:
            return s, p


def ptable(d, var, js=0, mono=None):
    """Rows (i, j, p, v, lb, ub); row ncat serves every i >= ncat."""
    ncat = d if js == 0 else d + js + 1
    mono = mono or [True] * ncat
    out = [(0, 0, 1.0, 0, 0.0, 1.0)]
    for i in range(1, ncat + 1):
        s, p = row(i, d, var, js, mono[min(i, len(mono)) - 1])
        cum = 0.0
        for n, (v, q) in enumerate(zip(s, p)):
            lb = round(cum, 8)
            cum += q
            ub = 1.0 if n == len(s) - 1 else round(cum, 8)
            out.append((i, i + v, q, v, lb, ub))
    return out


def main():
    ap = argparse.ArgumentParser(description="cell key perturbation table")
    ap.add_argument("--D", type=int, default=D)
    ap.add_argument("--V", type=float, default=V)
    ap.add_argument("--js", type=int, default=JS)
    ap.add_argument("--mono", default="", help="T/F per row, e.g. TTFT")
    ap.add_argument("--c", action="store_true", help="C initialisers")
    a = ap.parse_args()
    mono = [ch == "T" for ch in a.mono] or None
    t = ptable(a.D, a.V, a.js, mono)
    if a.c:
        print("/* made by server/ckm_ptable.py --D %d --V %r --js %d; "
              "do not edit */" % (a.D, a.V, a.js))
        for i, j, p, v, lb, ub in t:
            print("\t{%d, %d, %r, %d, %r, %r}," % (i, j, p, v, lb, ub))
        return
    w = sys.stdout.write
    w("i,j,p,v,p_int_lb,p_int_ub\n")
    for i, j, p, v, lb, ub in t:
        w("%d,%d,%r,%d,%r,%r\n" % (i, j, p, v, lb, ub))


if __name__ == "__main__":
    main()
