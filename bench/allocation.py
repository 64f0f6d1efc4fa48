"""Time civicvote.allocation's MES against pabutools on large approval instances.

Usage: python bench/allocation.py [--quick]

(a) MES + greedy completion, 150 projects x 100,000 voters: ours vs pabutools.
(b) MES + add1 completion on an instance sized so that pabutools needs about a minute:
    ours vs pabutools.
(c) our MES + add1 on 150 x 100,000.
(d) small currency units: budgets of 1,000,000,000 (or smaller) in units small next to each
    voter's share, up to 15 approvals per voter, so that add1 needs thousands of increments.
    The real election's shape (175 projects x 28,943 voters) and smaller ones; pabutools runs
    in a child process with a timeout (--pabutools-timeout) and is reported where it finishes.
    With --exact-reference, where add1 left increments unchecked, the exact walk alone (no
    search; minutes) is run too and must give the same outcome; with --workers N it is
    walked in N processes at once, as `civicvote allocate --prove` does (wall-clock time).
(e) the same in choose-1 elections (one project per voter), and (f) with 1-2 or 1-5 approvals
    per voter.
Exits with status 1 if any outcome differs from pabutools'.
Times are CPU seconds of this process (time.process_time), so that other load on a shared
machine distorts them less; wall-clock seconds are shown in brackets.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from civicvote.allocation import Project, Votes, allocate


def generate(num_projects: int, num_voters: int, seed: int, budget_share=0.3):
    """A realistic approval instance: skewed popularity, 1-5 approvals, varied costs."""
    rng = random.Random(seed)
    ids = [f"P{i:03d}" for i in range(num_projects)]
    costs = {pid: rng.randrange(20, 600) * 1000 for pid in ids}
    weights = [1 / (i + 1) ** 0.8 for i in range(num_projects)]  # Zipf-like popularity
    rng.shuffle(weights)
    ballots = []
    for _ in range(num_voters):
        k = rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5])
        ballots.append(frozenset(rng.choices(ids, weights=weights, k=k)))
    budget = int(sum(costs.values()) * budget_share)
    return costs, ballots, budget


def generate_small_units(num_projects, num_voters, seed, budget=1_000_000_000, approvals=15):
    """Costs in small units (a budget of ``budget``), 1 to ``approvals`` approvals (1: a
    choose-1 election), skewed popularity.

    The budget per voter is large in units, so add1 (one unit per voter per step) needs
    thousands of increments before an outcome no longer fits.
    """
    rng = random.Random(seed)
    ids = [f"P{i:03d}" for i in range(num_projects)]
    weights = [1 / (i + 1) ** 0.8 for i in range(num_projects)]
    rng.shuffle(weights)
    raw = {pid: rng.lognormvariate(0, 0.9) for pid in ids}
    scale = budget * 3.2 / sum(raw.values())  # the projects ask for about 3x the budget
    costs = {pid: max(1000, int(raw[pid] * scale)) for pid in ids}
    ballots = [
        frozenset(rng.choices(ids, weights=weights, k=rng.randint(1, approvals)))
        for _ in range(num_voters)
    ]
    return costs, ballots, budget


def _search_figures(outcome) -> str:
    """What add1 did: an exact walk (runs, stretches), or a search with what it left
    unchecked."""
    search = outcome.details.get("add1_search") or {}
    walked = f"{search.get('runs', 0)} runs, {search.get('stretches', 0)} stretches"
    if search.get("stepped"):
        walked += f", {search['stepped']} increments stepped"
    if "probes" not in search:
        return f"exact walk: {walked}"
    if search.get("walked_on"):
        return f"walk, search, walk on to its end: {walked}, {search['probes']} probes (exact)"
    return (
        f"walk then search: {walked}, {search['probes']} probes, "
        f"{search['unchecked_increments']:,} increments unchecked"
        + (" (exact)" if search["exact"] else "")
    )


def exact_reference(costs, ballots, budget, workers=1):
    """add1 by the exact walk alone (``prove=True``), however many runs it takes, in
    ``workers`` processes: (funded, seconds: CPU in one process, else wall, what the walk
    did)."""
    got, seconds, outcome = ours(costs, ballots, budget, "add1", prove=True, workers=workers)
    return got, seconds[0 if workers == 1 else 1], outcome.details["add1_search"]


def _theirs_child(queue, args):
    queue.put(theirs(*args))


def theirs_within(timeout, *args):
    """pabutools in a child process; None when it does not finish within ``timeout`` s."""
    import multiprocessing

    queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=_theirs_child, args=(queue, args))
    child.start()
    child.join(timeout)
    if child.is_alive():
        child.terminate()
        child.join()
        return None
    return queue.get()


def small_units(label, size, budget, seed, timeout, reference=False, approvals=15, workers=1):
    costs, ballots, budget = generate_small_units(
        *size, seed=seed, budget=budget, approvals=approvals
    )
    got, t_ours, outcome = ours(costs, ballots, budget, "add1")
    text = (
        f"{label}: {size[0]} projects x {size[1]:,} voters, budget {budget:,}; ours "
        f"{t_ours[0]:.2f} s [{t_ours[1]:.2f}] ({outcome.details['add1_increments']:,} "
        f"increments, {len(got)} funded; {_search_figures(outcome)})"
    )
    if reference and not outcome.details["add1_search"]["exact"]:
        exact, seconds, report = exact_reference(costs, ballots, budget, workers)
        how = "exact walk alone" if workers == 1 else f"exact walk in {workers} processes"
        text += (
            f"; {how} {seconds:.1f} s{'' if workers == 1 else ' wall'} ({report['runs']} runs, "
            f"{report['stretches']} stretches): {'same' if exact == got else 'DIFFERENT'}"
        )
        if exact != got:
            print(text)
            return False
    if timeout <= 0:
        print(text + "; pabutools not run")
        return True
    want = theirs_within(timeout, costs, ballots, budget, "add1")
    if want is None:
        print(text + f"; pabutools did not finish in {timeout:.0f} s")
        return True
    same = want[0] == got
    print(
        text + f"; pabutools {want[1][0]:.2f} s [{want[1][1]:.2f}]; "
        f"{'same outcome' if same else 'DIFFERENT OUTCOME'}"
    )
    return same


def ours(costs, ballots, budget, completion, prove=False, workers=1):
    projects = [Project(p, c) for p, c in costs.items()]
    start, wall = time.process_time(), time.perf_counter()
    outcome = allocate(
        projects,
        Votes.approval(ballots),
        budget=budget,
        rule="mes",
        completion=completion,
        tie_break="lexico",
        prove=prove,
        workers=workers,
    )
    return set(outcome.funded), (time.process_time() - start, time.perf_counter() - wall), outcome


def theirs(costs, ballots, budget, completion):
    from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, Instance
    from pabutools.election import Project as PabuProject
    from pabutools.rules import (
        completion_by_rule_combination,
        exhaustion_by_budget_increase,
        greedy_utilitarian_welfare,
        method_of_equal_shares,
    )

    projects = {p: PabuProject(p, c) for p, c in costs.items()}
    instance = Instance(projects.values(), budget_limit=budget)
    profile = ApprovalProfile([ApprovalBallot(projects[p] for p in b) for b in ballots])
    start, wall = time.process_time(), time.perf_counter()
    if completion == "greedy":
        result = completion_by_rule_combination(
            instance,
            profile,
            [method_of_equal_shares, greedy_utilitarian_welfare],
            [{"sat_class": Cost_Sat}, {"sat_class": Cost_Sat}],
        )
    else:
        result = exhaustion_by_budget_increase(
            instance,
            profile,
            method_of_equal_shares,
            {"sat_class": Cost_Sat},
            exhaustive_stop=False,
            budget_step=profile.num_ballots(),
        )
    return {p.name for p in result}, (time.process_time() - start, time.perf_counter() - wall)


def compare(label, size, completion, seed):
    costs, ballots, budget = generate(*size, seed=seed)
    got, t_ours, outcome = ours(costs, ballots, budget, completion)
    want, t_theirs = theirs(costs, ballots, budget, completion)
    same = got == want
    print(
        f"{label}: {size[0]} projects x {size[1]:,} voters, budget {budget:,}; "
        f"ours {t_ours[0]:.2f} s [{t_ours[1]:.2f}], pabutools {t_theirs[0]:.2f} s "
        f"[{t_theirs[1]:.2f}], ratio {t_theirs[0] / t_ours[0]:.0f}x; "
        f"add1 increments {outcome.details['add1_increments']}"
        f"{f' ({_search_figures(outcome)})' if completion == 'add1' else ''}; "
        f"{'same outcome' if same else 'DIFFERENT OUTCOME'}"
    )
    return same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument(
        "--pabutools-timeout", type=float, default=300, help="seconds for each pabutools run"
    )
    parser.add_argument(
        "--exact-reference",
        action="store_true",
        help="where add1 searched, also run the exact walk alone (minutes) and compare",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="processes for the exact walk (wall-clock time)"
    )
    args = parser.parse_args()
    big = (40, 2000) if args.quick else (150, 100_000)
    add1_size = (15, 200) if args.quick else (ADD1_PROJECTS, ADD1_VOTERS)
    ok = compare("(a) MES + greedy completion", big, "greedy", seed=1)
    ok &= compare("(b) MES + add1", add1_size, "add1", seed=2)
    costs, ballots, budget = generate(*big, seed=1)
    _, t_ours, outcome = ours(costs, ballots, budget, "add1")
    print(
        f"(c) our MES + add1 on {big[0]} x {big[1]:,}: {t_ours[0]:.2f} s [{t_ours[1]:.2f}] "
        f"({outcome.details['add1_increments']} increments; {_search_figures(outcome)})"
    )
    wait = args.pabutools_timeout
    if args.quick:
        ok &= small_units("(d) small units", (20, 300), 1_000_000, seed=3, timeout=wait)
    else:
        # Small enough for pabutools (one run per increment) and past add1's exact steps.
        ok &= small_units("(d) small units", (20, 300), 1_000_000, seed=3, timeout=wait)
        ok &= small_units("(d) small units", (25, 500), 2_000_000, seed=5, timeout=wait)
        ok &= small_units("(d) small units", (30, 400), 10_000_000, seed=3, timeout=wait)
        ok &= small_units("(d) small units", (60, 3000), 100_000_000, seed=4, timeout=wait)
        ref = {"reference": args.exact_reference, "workers": args.workers}
        ok &= small_units("(d) real shape", (175, 28_943), 1_000_000_000, 1, wait, **ref)
        ok &= small_units("(d) real shape", (175, 28_943), 1_000_000_000, 2, 0, **ref)
        # Choose-1 (each voter picks one project: supporters never overlap, so what changes
        # with the budget is which projects become affordable), and few approvals per voter
        # (few distinct ballots: cheap runs, many of them).
        for label, size, budget, seed, timeout, approvals in (
            ("(e) choose-1", (20, 300), 1_000_000, 3, wait, 1),
            ("(e) choose-1", (60, 3000), 100_000_000, 4, 0, 1),
            ("(e) choose-1", (175, 28_943), 1_000_000_000, 1, 0, 1),
            ("(e) choose-1", (175, 28_943), 1_000_000_000, 2, 0, 1),
            ("(f) 1-2 approvals", (175, 28_943), 1_000_000_000, 1, 0, 2),
            ("(f) 1-2 approvals", (175, 28_943), 1_000_000_000, 2, 0, 2),
            ("(f) 1-5 approvals", (175, 28_943), 1_000_000_000, 1, 0, 5),
        ):
            ok &= small_units(label, size, budget, seed, timeout, approvals=approvals, **ref)
    return 0 if ok else 1


# Sized by trial so that pabutools' add1 takes about a minute on the development machine
# (30 x 450 with seed 2: 54 s; the budget per voter is large, so ~7,400 increments).
ADD1_PROJECTS, ADD1_VOTERS = 30, 450

if __name__ == "__main__":
    sys.exit(main())
