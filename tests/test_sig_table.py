"""Real-world sigs, as pharmacists type them, and how each is read against the knowledge base.

Each row pins what a pharmacist reads: the ingredients, the amount per administration with its
unit, doses per day (as-needed orders at their maximum), as-needed, route, release, planned
course and action. A few sigs are refused: each refusal must quote the words, and refusals must
stay at or below 5% of the table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from regimenguard.regimen.sig import SigParseError, read_sig
from regimenguard.regimen.sig.knowledge_catalog import KnowledgeCatalog


@dataclass(frozen=True)
class Read:
    text: str
    ingredients: str  # "+"-joined, in any order
    dose: str  # per administration: "400 mg", "2 tab" (a combination), "50 mcg/h"
    per_day: float
    prn: bool = False
    route: str = "oral"
    extended: bool = False
    days: int = 0
    action: str = "continue"


@dataclass(frozen=True)
class Refused:
    text: str
    quoted: str  # the words the refusal must quote


W = 1 / 7
TABLE: list[Read | Refused] = [
    # --- the issue's misreads: a patch's strength is a rate, with its change interval -----
    Read("Duragesic 50 mcg q72h", "fentanyl", "50 mcg/h", 1 / 3, route="transdermal"),
    Read("fentanyl 25 mcg patch q72h", "fentanyl", "25 mcg/h", 1 / 3, route="transdermal"),
    Read("Butrans 10 mcg weekly", "buprenorphine", "10 mcg/h", W, route="transdermal"),
    Read("fentanyl 25 mcg/h patch q72h", "fentanyl", "25 mcg/h", 1 / 3, route="transdermal"),
    Read(
        "fentanyl 12 mcg/hr patch every 72 hours",
        "fentanyl",
        "12 mcg/h",
        1 / 3,
        route="transdermal",
    ),
    Read("Duragesic 25 mcg/h 1 patch q3d", "fentanyl", "25 mcg/h", 1 / 3, route="transdermal"),
    Read("fentanyl 25 mcg/h 2 patches q72h", "fentanyl", "50 mcg/h", 1 / 3, route="transdermal"),
    Read("apply Duragesic 75 mcg patch q72h", "fentanyl", "75 mcg/h", 1 / 3, route="transdermal"),
    Read("Butrans 5 mcg/hr patch weekly", "buprenorphine", "5 mcg/h", W, route="transdermal"),
    Read(
        "buprenorphine 20 mcg patch once a week",
        "buprenorphine",
        "20 mcg/h",
        W,
        route="transdermal",
    ),
    Read(
        "start Butrans 5 mcg q7d",
        "buprenorphine",
        "5 mcg/h",
        W,
        route="transdermal",
        action="start",
    ),
    Read("fentanyl 100 mcg buccal q6h prn", "fentanyl", "0.1 mg", 4, prn=True, route="sublingual"),
    Read("Belbuca 150 mcg bid", "buprenorphine", "0.15 mg", 2, route="buccal"),
    Refused("fentanyl 25 mcg q72h", "25 mcg"),
    # --- the issue's misreads: a duration is a planned course whatever the verb ----------
    Read("ketorolac 10 mg q6h x 7 days", "ketorolac", "10 mg", 4, days=7, action="start"),
    Read("carisoprodol 350 mg tid x 6 weeks", "carisoprodol", "350 mg", 3, days=42, action="start"),
    Read(
        "cyclobenzaprine 10 mg tid x 2 weeks",
        "cyclobenzaprine",
        "10 mg",
        3,
        days=14,
        action="start",
    ),
    Read(
        "start cyclobenzaprine 5 mg tid prn for 14 days",
        "cyclobenzaprine",
        "5 mg",
        3,
        prn=True,
        days=14,
        action="start",
    ),
    Read(
        "tizanidine 4 mg q8h prn spasm x 10 days",
        "tizanidine",
        "4 mg",
        3,
        prn=True,
        days=10,
        action="start",
    ),
    Read(
        "methylprednisolone 4 mg daily x 6 days",
        "methylprednisolone",
        "4 mg",
        1,
        days=6,
        action="start",
    ),
    Read("prednisone 20 mg bid x5d", "prednisone", "20 mg", 2, days=5, action="start"),
    Read("ibuprofen 800 mg tid for 10 days", "ibuprofen", "800 mg", 3, days=10, action="start"),
    Read("naproxen 500 mg bid x 1 month", "naproxen", "500 mg", 2, days=30, action="start"),
    Read("continue baclofen 10 mg tid for 3 weeks", "baclofen", "10 mg", 3, days=21),
    Read(
        "methocarbamol 750 mg qid x 7 days started 2026-11-20", "methocarbamol", "750 mg", 4, days=7
    ),
    # --- the issue's misreads: brand products with their strengths from the knowledge base
    Read("Tylenol ES 500 mg 2 tabs q6h", "acetaminophen", "1000 mg", 4),
    Read("Tylenol Arthritis 650 mg 2 tabs q8h", "acetaminophen", "1300 mg", 3, extended=True),
    Read("Anaprox DS 550 mg bid", "naproxen", "550 mg", 2),
    Read("Tylenol ES 2 tabs q6h prn", "acetaminophen", "1000 mg", 4, prn=True),
    Read("Tylenol Extra Strength 1000 mg tid", "acetaminophen", "1000 mg", 3),
    Read("Tylenol 8 HR Arthritis 2 tabs q8h", "acetaminophen", "1300 mg", 3, extended=True),
    Read("Tylenol Regular Strength 2 tabs q4-6h prn", "acetaminophen", "650 mg", 6, prn=True),
    Read("Aleve 1 tab bid with food", "naproxen", "220 mg", 2),
    Refused("Aleve 440 mg then 220 mg q12h", "then"),
    Read("Anaprox DS 1 tab bid prn pain", "naproxen", "550 mg", 2, prn=True),
    Refused("Tylenol ES 325 mg 2 tabs q6h", "325 mg"),
    # --- ranges counted at their maximum --------------------------------------------------
    Read("Norco 10/325 1-2 tabs q4-6h prn pain", "hydrocodone+acetaminophen", "2 tab", 6, prn=True),
    Read(
        "Percocet 5/325 1-2 tabs q4-6h prn pain max 8/day",
        "oxycodone+acetaminophen",
        "2 tab",
        4,
        prn=True,
    ),
    Read("acetaminophen 325 mg 1-2 tabs q4-6h prn", "acetaminophen", "650 mg", 6, prn=True),
    Read("oxycodone 5-10 mg q4h prn severe pain", "oxycodone", "10 mg", 6, prn=True),
    Read("ibuprofen 200 mg 1 to 2 tabs q6-8h prn", "ibuprofen", "400 mg", 4, prn=True),
    Read("tramadol 50 mg 1 or 2 tabs q6h prn", "tramadol", "100 mg", 4, prn=True),
    Read("hydromorphone 2-4 mg q4-6h prn", "hydromorphone", "4 mg", 6, prn=True),
    Read(
        "Ultracet 37.5/325 1-2 tabs q4-6h prn max 8 tabs/day",
        "tramadol+acetaminophen",
        "2 tab",
        4,
        prn=True,
    ),
    Read("cyclobenzaprine 5-10 mg tid prn", "cyclobenzaprine", "10 mg", 3, prn=True),
    Read(
        "Norco 5/325 1 tab every 4 to 6 hours as needed",
        "hydrocodone+acetaminophen",
        "1 tab",
        6,
        prn=True,
    ),
    # --- prn with a reason ----------------------------------------------------------------
    Read("cyclobenzaprine 5 mg tid prn spasm", "cyclobenzaprine", "5 mg", 3, prn=True),
    Read("oxycodone 5 mg q6h prn severe pain", "oxycodone", "5 mg", 4, prn=True),
    Read("ibuprofen 400 mg q6h prn pain", "ibuprofen", "400 mg", 4, prn=True),
    Read("tizanidine 2 mg qhs prn muscle spasm", "tizanidine", "2 mg", 1, prn=True),
    Read("acetaminophen 650 mg q6h as needed for pain", "acetaminophen", "650 mg", 4, prn=True),
    Read(
        "Norco 7.5/325 1 tab q6h prn for moderate pain",
        "hydrocodone+acetaminophen",
        "1 tab",
        4,
        prn=True,
    ),
    Read("methocarbamol 750 mg q8h prn back spasms", "methocarbamol", "750 mg", 3, prn=True),
    Read("tramadol 50 mg q6h prn moderate to severe pain", "tramadol", "50 mg", 4, prn=True),
    # --- administration notes -------------------------------------------------------------
    Read("ibuprofen 600 mg tid with food", "ibuprofen", "600 mg", 3),
    Read("naproxen 500 mg bid with meals", "naproxen", "500 mg", 2),
    Read("meloxicam 15 mg daily with food", "meloxicam", "15 mg", 1),
    Read("cyclobenzaprine 10 mg at bedtime", "cyclobenzaprine", "10 mg", 1),
    Read("amitriptyline 10 mg qhs", "amitriptyline", "10 mg", 1),
    Read("Voltaren gel 2 g to lower back qid", "diclofenac", "20 mg", 4, route="topical"),
    Read("Voltaren gel 4 g to affected area qid", "diclofenac", "40 mg", 4, route="topical"),
    Read("apply Voltaren gel 4 g qid to knees", "diclofenac", "40 mg", 4, route="topical"),
    Read("diclofenac 1% gel 4 g qid topical", "diclofenac", "40 mg", 4, route="topical"),
    Read("diclofenac 1% gel 2 g to the low back tid", "diclofenac", "20 mg", 3, route="topical"),
    Read("celecoxib 200 mg daily with food", "celecoxib", "200 mg", 1),
    Read("etodolac 400 mg bid after meals", "etodolac", "400 mg", 2),
    Read("tramadol ER 100 mg daily swallow whole", "tramadol", "100 mg", 1, extended=True),
    Read("OxyContin 10 mg q12h do not crush", "oxycodone", "10 mg", 2, extended=True),
    # --- daily caps bound the count -------------------------------------------------------
    Read(
        "acetaminophen 500 mg 2 tabs q6h prn not to exceed 3 g/day",
        "acetaminophen",
        "1000 mg",
        3,
        prn=True,
    ),
    Read("acetaminophen 1000 mg q6h prn max 3000 mg/day", "acetaminophen", "1000 mg", 3, prn=True),
    Read("ibuprofen 400 mg q4h prn max 6/day", "ibuprofen", "400 mg", 6, prn=True),
    Read("ibuprofen 400 mg q4h prn max 4 doses per day", "ibuprofen", "400 mg", 4, prn=True),
    Read(
        "Norco 10/325 1 tab q4h prn max 4 tabs/day",
        "hydrocodone+acetaminophen",
        "1 tab",
        4,
        prn=True,
    ),
    Read("oxycodone 5 mg q4h prn pain max 30 mg/day", "oxycodone", "5 mg", 6, prn=True),
    Read(
        "Tylenol 325 mg 2 tabs q4h prn do not exceed 10 tabs per day",
        "acetaminophen",
        "650 mg",
        5,
        prn=True,
    ),
    Read(
        "naproxen 220 mg q8-12h prn no more than 3 tabs in 24 hours",
        "naproxen",
        "220 mg",
        3,
        prn=True,
    ),
    Read("ibuprofen 200 mg 2 tabs prn max 6 tabs/day", "ibuprofen", "400 mg", 3, prn=True),
    # --- dotted abbreviations -------------------------------------------------------------
    Read("cyclobenzaprine 5 mg t.i.d.", "cyclobenzaprine", "5 mg", 3),
    Read("oxycodone 5 mg q.8.h. p.r.n.", "oxycodone", "5 mg", 3, prn=True),
    Read("naproxen 500 mg b.i.d. p.o.", "naproxen", "500 mg", 2),
    Read("ibuprofen 400 mg q.i.d.", "ibuprofen", "400 mg", 4),
    Read("meloxicam 7.5 mg q.d.", "meloxicam", "7.5 mg", 1),
    Read("gabapentin 300 mg q.h.s.", "gabapentin", "300 mg", 1),
    Read("tizanidine 4 mg q.6.h. prn", "tizanidine", "4 mg", 4, prn=True),
    # --- glued strengths and hyphenated combinations --------------------------------------
    Read("Norco 10/325mg 1 tab q6h prn", "hydrocodone+acetaminophen", "1 tab", 4, prn=True),
    Read(
        "hydrocodone-acetaminophen 5-325 1 tab q6h prn",
        "hydrocodone+acetaminophen",
        "1 tab",
        4,
        prn=True,
    ),
    Read(
        "oxycodone-acetaminophen 5/325 1 tab q6h prn",
        "oxycodone+acetaminophen",
        "1 tab",
        4,
        prn=True,
    ),
    Read("Percocet 10/325 1 tab q8h prn", "oxycodone+acetaminophen", "1 tab", 3, prn=True),
    Read("ibuprofen 400mg tid", "ibuprofen", "400 mg", 3),
    Read("gabapentin 300mg 1cap tid", "gabapentin", "300 mg", 3),
    Read("Norco 5 mg/325 mg 2 tabs q6h prn", "hydrocodone+acetaminophen", "2 tab", 4, prn=True),
    Read(
        "tramadol/acetaminophen 37.5/325 2 tabs q6h prn",
        "tramadol+acetaminophen",
        "2 tab",
        4,
        prn=True,
    ),
    Read("Tylenol with Codeine #3 1 tab q4-6h prn", "codeine+acetaminophen", "1 tab", 6, prn=True),
    Read("Tylenol #3 1-2 tabs q6h prn", "codeine+acetaminophen", "2 tab", 4, prn=True),
    Read("Vicodin 5/300 1 tab q6h prn", "hydrocodone+acetaminophen", "1 tab", 4, prn=True),
    Refused("Norco 1 tab q6h prn", "Norco"),
    # --- patches worn on a cycle ----------------------------------------------------------
    Read("Lidoderm 5% patch 12h on 12h off", "lidocaine", "700 mg", 1, route="topical"),
    Read("Lidoderm 1 patch daily on 12h off 12h", "lidocaine", "700 mg", 1, route="topical"),
    Read(
        "apply Lidoderm 5% patch to lower back 12 hours on, 12 hours off",
        "lidocaine",
        "700 mg",
        1,
        route="topical",
    ),
    Read(
        "Lidoderm 2 patches daily for 12 hours then remove",
        "lidocaine",
        "1400 mg",
        1,
        route="topical",
    ),
    Read("Flector patch bid", "diclofenac", "180 mg", 2, route="topical"),
    Read("Flector 1.3% 1 patch to affected area q12h", "diclofenac", "180 mg", 2, route="topical"),
    # --- everyday scheduled orders --------------------------------------------------------
    Read("Norco 10/325 1 tab q4h prn", "hydrocodone+acetaminophen", "1 tab", 6, prn=True),
    Read("Tylenol 500 mg 2 tabs q6h prn", "acetaminophen", "1000 mg", 4, prn=True),
    Read("duloxetine 30 mg daily started 2026-10-01", "duloxetine", "30 mg", 1),
    Read("duloxetine 60 mg qd", "duloxetine", "60 mg", 1),
    Read("Cymbalta 60 mg once daily", "duloxetine", "60 mg", 1),
    Read("naproxen 500 mg bid", "naproxen", "500 mg", 2),
    Read("Naprosyn 375 mg twice daily", "naproxen", "375 mg", 2),
    Read("ibuprofen 800 mg tid", "ibuprofen", "800 mg", 3),
    Read("Motrin 600 mg q6h prn", "ibuprofen", "600 mg", 4, prn=True),
    Read("Advil 200 mg 2 tabs q6h prn", "ibuprofen", "400 mg", 4, prn=True),
    Read("meloxicam 15 mg daily", "meloxicam", "15 mg", 1),
    Read("Mobic 7.5 mg bid", "meloxicam", "7.5 mg", 2),
    Read("Celebrex 200 mg daily", "celecoxib", "200 mg", 1),
    Read("celecoxib 100 mg bid", "celecoxib", "100 mg", 2),
    Read("diclofenac 50 mg tid", "diclofenac", "50 mg", 3),
    Read("diclofenac potassium 50 mg tid", "diclofenac", "50 mg", 3),
    Read("nabumetone 500 mg 2 tabs daily", "nabumetone", "1000 mg", 1),
    Read("etodolac ER 400 mg daily", "etodolac", "400 mg", 1, extended=True),
    Read(
        "ketorolac 10 mg q4-6h prn x 5 days",
        "ketorolac",
        "10 mg",
        6,
        prn=True,
        days=5,
        action="start",
    ),
    Read("aspirin 325 mg 2 tabs q4h prn", "aspirin", "650 mg", 6, prn=True),
    Read("aspirin 81 mg daily", "aspirin", "81 mg", 1),
    Read("acetaminophen 650 mg q6h", "acetaminophen", "650 mg", 4),
    Read("APAP 500 mg 2 tabs tid", "acetaminophen", "1000 mg", 3),
    Read("acetaminophen 1 g q8h", "acetaminophen", "1000 mg", 3),
    Read(
        "acetaminophen 650 mg rectal q6h prn",
        "acetaminophen",
        "650 mg",
        4,
        prn=True,
        route="rectal",
    ),
    Read("cyclobenzaprine 5 mg tid", "cyclobenzaprine", "5 mg", 3),
    Read("Flexeril 10 mg three times a day", "cyclobenzaprine", "10 mg", 3),
    Read("tizanidine 4 mg q6-8h prn", "tizanidine", "4 mg", 4, prn=True),
    Read("Zanaflex 2 mg 3 times daily", "tizanidine", "2 mg", 3),
    Read("methocarbamol 1.5 g qid", "methocarbamol", "1500 mg", 4),
    Read("Robaxin 750 mg 2 tabs tid", "methocarbamol", "1500 mg", 3),
    Read("metaxalone 800 mg tid-qid", "metaxalone", "800 mg", 4),
    Read("Skelaxin 800 mg 4 times a day", "metaxalone", "800 mg", 4),
    Read("baclofen 5 mg tid", "baclofen", "5 mg", 3),
    Read("Soma 350 mg qid", "carisoprodol", "350 mg", 4),
    Read("gabapentin 300 mg tid", "gabapentin", "300 mg", 3),
    Read("Neurontin 600 mg 1 tab three times daily", "gabapentin", "600 mg", 3),
    Read("pregabalin 75 mg bid", "pregabalin", "75 mg", 2),
    Read("Lyrica 50 mg tid", "pregabalin", "50 mg", 3),
    Read("venlafaxine XR 75 mg daily", "venlafaxine", "75 mg", 1, extended=True),
    Read("Effexor XR 150 mg qam", "venlafaxine", "150 mg", 1, extended=True),
    Read("nortriptyline 25 mg at bedtime", "nortriptyline", "25 mg", 1),
    Read("amitriptyline 25 mg nightly", "amitriptyline", "25 mg", 1),
    Read("tramadol 50 mg q6h prn", "tramadol", "50 mg", 4, prn=True),
    Read("Ultram 50 mg 1-2 tabs q4-6h prn", "tramadol", "100 mg", 6, prn=True),
    Read("tramadol ER 200 mg once daily", "tramadol", "200 mg", 1, extended=True),
    Read("tapentadol 50 mg q4-6h prn", "tapentadol", "50 mg", 6, prn=True),
    Read("Nucynta ER 100 mg bid", "tapentadol", "100 mg", 2, extended=True),
    Read("oxycodone 5 mg q4h prn", "oxycodone", "5 mg", 6, prn=True),
    Read("oxycodone IR 10 mg q6h prn", "oxycodone", "10 mg", 4, prn=True),
    Read("OxyContin 20 mg every 12 hours", "oxycodone", "20 mg", 2, extended=True),
    Read("Roxicodone 15 mg q4h prn", "oxycodone", "15 mg", 6, prn=True),
    Read("morphine ER 15 mg bid", "morphine", "15 mg", 2, extended=True),
    Read("MS Contin 30 mg q12h", "morphine", "30 mg", 2, extended=True),
    Read("morphine 4 mg iv q4h prn", "morphine", "4 mg", 6, prn=True, route="injection"),
    Read("hydromorphone 2 mg q4h prn", "hydromorphone", "2 mg", 6, prn=True),
    Read("Dilaudid 4 mg q6h prn", "hydromorphone", "4 mg", 4, prn=True),
    Read("methadone 5 mg q8h", "methadone", "5 mg", 3),
    Read("codeine 30 mg q4h prn", "codeine", "30 mg", 6, prn=True),
    Read("buprenorphine 2 mg sl daily", "buprenorphine", "2 mg", 1, route="sublingual"),
    Read("diazepam 5 mg bid prn", "diazepam", "5 mg", 2, prn=True),
    Read("Valium 2 mg tid", "diazepam", "2 mg", 3),
    Read("alprazolam 0.5 mg tid prn anxiety", "alprazolam", "0.5 mg", 3, prn=True),
    Read("lorazepam 1 mg qhs prn", "lorazepam", "1 mg", 1, prn=True),
    Read("clonazepam 0.5 mg bid", "clonazepam", "0.5 mg", 2),
    Read("sertraline 50 mg daily for depression", "sertraline", "50 mg", 1),
    Read("fluoxetine 20 mg qam", "fluoxetine", "20 mg", 1),
    Read("trazodone 50 mg qhs prn sleep", "trazodone", "50 mg", 1, prn=True),
    Read("prednisone 10 mg daily", "prednisone", "10 mg", 1),
    Read("topiramate 25 mg bid", "topiramate", "25 mg", 2),
    # --- changes, stops, responses, dates -------------------------------------------------
    Read(
        "increase duloxetine from 30 mg to 60 mg daily started 2026-11-20",
        "duloxetine",
        "60 mg",
        1,
        action="change_dose",
    ),
    Read("increase gabapentin to 600 mg tid", "gabapentin", "600 mg", 3, action="change_dose"),
    Read(
        "decrease oxycodone from 10 mg to 5 mg q6h prn",
        "oxycodone",
        "5 mg",
        4,
        prn=True,
        action="change_dose",
    ),
    Read("stop ibuprofen 400 mg tid no benefit", "ibuprofen", "400 mg", 3, action="stop"),
    Read(
        "d/c cyclobenzaprine 10 mg tid not tolerated", "cyclobenzaprine", "10 mg", 3, action="stop"
    ),
    Read("discontinue Norco 10/325", "hydrocodone+acetaminophen", "1 tab", 0, action="stop"),
    Read("continue naproxen 500 mg bid helping", "naproxen", "500 mg", 2),
    Read("start meloxicam 7.5 mg daily", "meloxicam", "7.5 mg", 1, action="start"),
    Read("new Rx: tizanidine 2 mg qhs", "tizanidine", "2 mg", 1, action="start"),
    Refused("start duloxetine 30 mg daily x 1 week then 60 mg daily", "then"),
    Read("resume celecoxib 200 mg daily", "celecoxib", "200 mg", 1),
    Read("Norco 10/325 1 tab q6h prn #30", "hydrocodone+acetaminophen", "1 tab", 4, prn=True),
    Read("ibuprofen 400 mg po q6h prn pain, with food", "ibuprofen", "400 mg", 4, prn=True),
    Read("naproxen 500 mg by mouth twice a day", "naproxen", "500 mg", 2),
    Read("Percocet 5/325 take 1 tab q6h prn", "oxycodone+acetaminophen", "1 tab", 4, prn=True),
    Refused("ibuprofen 400 mg xyz bid", "xyz"),
    Read(
        "prednisone 40 mg daily x 5 days then stop",
        "prednisone",
        "40 mg",
        1,
        days=5,
        action="start",
    ),
    Read(
        "Norco 10/325 1 tab q6h prn #30 refills: 0",
        "hydrocodone+acetaminophen",
        "1 tab",
        4,
        prn=True,
    ),
    Read(
        "tramadol 50 mg q6h ATC x 3 days, disp 12, no refills",
        "tramadol",
        "50 mg",
        4,
        days=3,
        action="start",
    ),
    Read("meloxicam 15 mg daily RF x2", "meloxicam", "15 mg", 1),
    # --- as EHRs print them ---------------------------------------------------------------
    Read(
        "ibuprofen 400 mg take 1 tablet by mouth every 6 hours as needed for pain",
        "ibuprofen",
        "400 mg",
        4,
        prn=True,
    ),
    Read("oxycodone 5 mg tablet, 1 tab PO Q4H PRN", "oxycodone", "5 mg", 6, prn=True),
    Read(
        "hydrocodone-acetaminophen 10-325 mg per tablet 1 tablet every 6 hours PRN",
        "hydrocodone+acetaminophen",
        "1 tab",
        4,
        prn=True,
    ),
    Read("gabapentin 300 mg capsule 1 capsule 3 times a day", "gabapentin", "300 mg", 3),
    Read(
        "cyclobenzaprine 10 mg tablet take one tablet at bedtime as needed",
        "cyclobenzaprine",
        "10 mg",
        1,
        prn=True,
    ),
    Read(
        "lidocaine 5 % patch apply 1 patch to skin daily (remove after 12 hours)",
        "lidocaine",
        "700 mg",
        1,
        route="topical",
    ),
    Read(
        "tramadol 50 mg tablet 1 tablet every 6 hours as needed for moderate pain (max 4/day)",
        "tramadol",
        "50 mg",
        4,
        prn=True,
    ),
    Read("duloxetine 60 mg capsule delayed release, 1 capsule daily", "duloxetine", "60 mg", 1),
    Read("baclofen 10 mg tab 1/2 tab tid", "baclofen", "5 mg", 3),
    Read(
        "diclofenac sodium 1 % gel apply 4 grams topically 4 times daily",
        "diclofenac",
        "40 mg",
        4,
        route="topical",
    ),
    Read(
        "fentanyl 12 mcg/hr transdermal patch, change every 3 days",
        "fentanyl",
        "12 mcg/h",
        1 / 3,
        route="transdermal",
    ),
    Read(
        "prednisone 10 mg tablet: 4 tabs daily x 3 days",
        "prednisone",
        "40 mg",
        1,
        days=3,
        action="start",
    ),
    Read("Tylenol Extra Strength 500 mg 2 caplets q6h", "acetaminophen", "1000 mg", 4),
    Read(
        "acetaminophen 325 mg 2 tab(s) every six hours as needed",
        "acetaminophen",
        "650 mg",
        4,
        prn=True,
    ),
    Read(
        "oxycodone-acetaminophen 5-325 mg 1-2 tabs every 4-6 hours prn pain, max 8 tabs/24 hrs",
        "oxycodone+acetaminophen",
        "2 tab",
        4,
        prn=True,
    ),
    Read("ibuprofen 800 mg (2 tabs) tid", "ibuprofen", "800 mg", 3),
    Refused("methocarbamol 500 mg 2 tabs qid x 3 days then prn", "then"),
    Read("Voltaren gel 4 g qid to knees max 32 g/day", "diclofenac", "40 mg", 4, route="topical"),
    Read(
        "diclofenac 1% gel 4 g qid prn max 16 g per day",
        "diclofenac",
        "40 mg",
        4,
        prn=True,
        route="topical",
    ),
    Read("fentanyl 25 mcg/h 1-2 patches q72h", "fentanyl", "50 mcg/h", 1 / 3, route="transdermal"),
    Read("Anaprox DS 1 tab bid max 2 tabs/day", "naproxen", "550 mg", 2),
    Read("Tylenol ES 2 tabs q6h prn max 6 tabs/day", "acetaminophen", "1000 mg", 3, prn=True),
    Read("rxcui:856999 1 tab q6h prn", "hydrocodone+acetaminophen", "1 tab", 4, prn=True),
    Read(
        "hydrocodone/APAP 10/325 1 tab q6h prn", "hydrocodone+acetaminophen", "1 tab", 4, prn=True
    ),
    Read(
        "acetaminophen-codeine 300-30 1 tab q6h prn", "codeine+acetaminophen", "1 tab", 4, prn=True
    ),
    Read("Excedrin 2 tabs q6h prn", "acetaminophen+aspirin+caffeine", "2 tab", 4, prn=True),
    Read("Tylenol PM 2 tabs qhs", "acetaminophen+diphenhydramine", "2 tab", 1),
    # --- times of day, nostrils -----------------------------------------------------------
    Read("gabapentin 300 mg qam and qhs", "gabapentin", "300 mg", 2),
    Read("gabapentin 300 mg every morning and at bedtime", "gabapentin", "300 mg", 2),
    Read("cyclobenzaprine 10 mg daily at bedtime", "cyclobenzaprine", "10 mg", 1),
    Read("naproxen 500 mg bid (twice daily) with food", "naproxen", "500 mg", 2),
    Refused("cyclobenzaprine 10 mg bid at bedtime", "at bedtime"),
    Read(
        "ketorolac 15.75 mg 1 spray in each nostril q6h x 5 days",
        "ketorolac",
        "31.5 mg",
        4,
        route="intranasal",
        days=5,
        action="start",
    ),
    Read(
        "ketorolac 15.75 mg 1 spray in each nostril q6-8h",
        "ketorolac",
        "31.5 mg",
        4,
        route="intranasal",
    ),
    Read(
        "meloxicam 15 mg daily x 30 days for arthritis",
        "meloxicam",
        "15 mg",
        1,
        days=30,
        action="start",
    ),
]

READS = [row for row in TABLE if isinstance(row, Read)]
REFUSALS = [row for row in TABLE if isinstance(row, Refused)]
MG = {"mg": 1.0, "g": 1000.0}


@pytest.fixture(scope="module")
def catalog(knowledge) -> KnowledgeCatalog:  # type: ignore[no-untyped-def]
    return KnowledgeCatalog(knowledge)


def test_the_table_is_large_and_refuses_at_most_5_percent() -> None:
    assert len(TABLE) >= 150
    assert len({row.text for row in TABLE}) == len(TABLE)
    assert len(REFUSALS) <= 0.05 * len(TABLE)


def _dose(reading) -> str:  # type: ignore[no-untyped-def]
    amount, unit = reading.dose_amount, reading.dose_unit
    if amount is None:
        return ""
    return f"{amount:g} {unit}"


@pytest.mark.parametrize("row", READS, ids=[row.text for row in READS])
def test_sig_is_read_as_a_pharmacist_reads_it(row: Read, catalog: KnowledgeCatalog) -> None:
    reading = read_sig(row.text, catalog)
    order = reading.order
    assert sorted(reading.ingredients) == sorted(row.ingredients.split("+"))
    assert _dose(reading) == row.dose
    assert order.doses_per_day == pytest.approx(row.per_day)
    assert order.as_needed is row.prn
    assert order.route.value == row.route
    assert order.extended_release is row.extended
    assert order.planned_days == row.days
    assert order.action.value == row.action


@pytest.mark.parametrize("row", REFUSALS, ids=[row.text for row in REFUSALS])
def test_refusal_quotes_the_words(row: Refused, catalog: KnowledgeCatalog) -> None:
    with pytest.raises(SigParseError) as raised:
        read_sig(row.text, catalog)
    message = str(raised.value)
    assert message.startswith(f'could not read "{row.quoted}" in "{row.text}": ')
    assert len(message) > len(f'could not read "{row.quoted}" in "{row.text}": ') + 10


@pytest.mark.parametrize(
    ("text", "assumption"),
    [
        ("Norco 10/325 1-2 tabs q4-6h prn pain", 'counted "1-2 tabs" at 2 tabs'),
        ("Norco 10/325 1-2 tabs q4-6h prn pain", '"q4-6h" counted at every 4 h = 6 a day'),
        ("ketorolac 10 mg q6h x 7 days", '"x 7 days" read as a planned 7-day course from today'),
        ("Duragesic 50 mcg q72h", "read as its delivery rate, 50 mcg/h"),
        ("Percocet 5/325 1-2 tabs q4-6h prn pain max 8/day", "8 tabs a day = 4 doses (not 6)"),
        ("Lidoderm 5% patch 12h on 12h off", "12 h on, 12 h off: 1 patch a day"),
    ],
)
def test_each_assumption_is_said(text: str, assumption: str, catalog: KnowledgeCatalog) -> None:
    assert any(assumption in note for note in read_sig(text, catalog).assumptions)


def test_a_sig_read_without_assumptions_says_none(catalog: KnowledgeCatalog) -> None:
    assert read_sig("naproxen 500 mg bid", catalog).assumptions == ()


# Every sig the issue names is in the table.
ISSUE_SIGS = [
    "Duragesic 50 mcg q72h",
    "fentanyl 25 mcg patch q72h",
    "Butrans 10 mcg weekly",
    "ketorolac 10 mg q6h x 7 days",
    "carisoprodol 350 mg tid x 6 weeks",
    "Tylenol ES 500 mg 2 tabs q6h",
    "Tylenol Arthritis 650 mg 2 tabs q8h",
    "Anaprox DS 550 mg bid",
    "Voltaren gel 2 g to lower back qid",
    "Lidoderm 5% patch 12h on 12h off",
    "Norco 10/325 1 tab q4h prn",
    "Tylenol 500 mg 2 tabs q6h prn",
    "duloxetine 30 mg daily started 2026-10-01",
    "start cyclobenzaprine 5 mg tid prn for 14 days",
]
# ... and every everyday form it lists, in at least one sig.
ISSUE_FORMS = [
    "1-2 tabs",
    "q4-6h",
    "prn pain",
    "prn spasm",
    "prn severe pain",
    "with food",
    "max 8/day",
    "t.i.d.",
    "q.8.h.",
    "10/325mg",
    "5-325",
    "at bedtime",
    "to lower back",
    "not to exceed 3 g/day",
    "on 12h off 12h",
    "12h on 12h off",
]


def test_the_table_holds_every_example_of_the_issue() -> None:
    texts = {row.text for row in READS}
    assert [sig for sig in ISSUE_SIGS if sig not in texts] == []
    assert [form for form in ISSUE_FORMS if not any(form in text for text in texts)] == []


@pytest.mark.parametrize("row", READS, ids=[row.text for row in READS])
def test_the_checker_counts_what_the_reading_says(row: Read, catalog, check) -> None:  # type: ignore[no-untyped-def]
    """The order a sig becomes is one the checker resolves, with the amount the reading shows."""
    reading = read_sig(row.text, catalog)
    resolved = check(reading.order).summary.orders[0]
    assert resolved.resolved, resolved.unresolved_names
    assert sorted(resolved.ingredient_names) == sorted(reading.ingredients)
    if row.action == "stop":
        return
    mg_per_day = sum(part.mg_per_day or 0.0 for part in resolved.ingredients)
    assert mg_per_day > 0  # every amount is known: nothing counts as zero
    if reading.dose_unit == "mcg/h":
        assert reading.order.rate_mcg_per_hour or resolved.order.rate_mcg_per_hour
        assert mg_per_day == pytest.approx(reading.dose_amount * 24 / 1000)
    elif reading.dose_unit == "mg" and len(resolved.ingredients) == 1 and reading.order.drug:
        counted = resolved.ingredients[0].mg_per_dose
        # the amount as labelled; a salt (naproxen sodium) counts a little less as the base
        assert counted == pytest.approx(reading.dose_amount, rel=0.35)
        assert counted <= reading.dose_amount + 1e-9
