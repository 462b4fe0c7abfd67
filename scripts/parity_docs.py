"""Parity check of the multi-page document scorers against upstream's own code (not run in CI: it needs
a local clone of VLMEvalKit).

    python scripts/parity_docs.py /path/to/VLMEvalKit            # reads e8e78f05's files with `git show`

Runs upstream's SlideVQA_acc, DUDE_acc and MMLongBench_acc (with `load`/`dump` replaced by an in-memory
frame, and the answers and extracted answers as upstream reads them back from its xlsx files) and ours
(scoring/slidevqa.py, dude.py, mmlongbench.py) on thousands of random rows, and asserts the tables are
equal. Cases where upstream fails (a NaN extracted answer on DUDE, a division by zero in MMLongBench's F1,
every answer NaN on SlideVQA) are skipped and counted.
"""
import contextlib
import io
import logging
import math
import random
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
COMMIT = "e8e78f05"


def upstream(repo, path):
    return subprocess.run(["git", "-C", repo, "show", f"{COMMIT}:{path}"], check=True, capture_output=True,
                          text=True).stdout


def main(repo: str) -> None:
    logging.disable(logging.WARNING)
    src=upstream(repo, 'vlmeval/dataset/mmlongbenchdoc.py'); vq=upstream(repo, 'vlmeval/dataset/utils/vqa_eval.py')
    ns=dict(math=math, re=re, pd=pd)
    exec(vq[vq.index('def levenshtein_distance'):vq.index('def anls_compute')], ns)
    exec(src[src.index('def anls_compute'):src.index('def get_font')], ns)
    exec(src[src.index('def eval_score'):src.index('def MMLongBench_auxeval')], ns)
    exec(src[src.index('def get_f1'):src.index('class MMLongBenchDoc')], ns)
    sl=upstream(repo, 'vlmeval/dataset/slidevqa.py'); du=upstream(repo, 'vlmeval/dataset/dude.py')
    exec(sl[sl.index('def get_f1'):sl.index('class SlideVQA')].replace('def get_f1','def sget_f1').replace('get_f1(item','sget_f1(item'), ns)
    exec(du[du.index('def DUDE_acc'):du.index('class DUDE')], ns)
    holder = {}
    ns['load']=lambda f: holder['df'].copy(); ns['dump']=lambda d,f: None
    from vlmeval_steps.scoring import dude, slidevqa, mmlongbench
    rb=mmlongbench.read_back
    NA=float('nan')
    words=['a','b','paris','new york','Not answerable','12','13','0.25','25%','https://a.org','[1, 2]',"['a', 'b']","['B', 'A']",'10','10.0','page 3','2020-01','','None','a.m. 5','x@y.org','a  b','line1\nline2']
    random.seed(1); counts=dict(slide=0,dude=0,mmlb=0,zero=0)
    for trial in range(3000):
        n=random.randint(1,8)
        ans=[rb(random.choice(words+[NA])) for _ in range(n)]
        if all(isinstance(a,float) for a in ans): continue
        preds=[random.choice(words) for _ in range(n)]
        back=[rb(p) for p in preds]
        ext=pd.DataFrame(dict(index=list(range(n)), extracted=[dict(pred=p,res='') for p in preds], log=['']*n))
        data=pd.DataFrame(dict(index=list(range(n)), answer=ans, question=['q']*n, prediction=['p']*n))
        holder['df']=pd.DataFrame(dict(answer=ans, pred=back))
        with contextlib.redirect_stdout(io.StringIO()):
            up=ns['SlideVQA_acc']('x')
        ours=slidevqa.score(data, ext)['acc']
        assert [round(v,9) for v in up['avg']]==[round(v,9) for v in ours['avg']], (ans,preds,up,ours); counts['slide']+=1
        if not any(isinstance(b,float) for b in back):
            holder['df']=pd.DataFrame(dict(answer=ans, pred=back))
            up=ns['DUDE_acc']('x'); ours=dude.score(data, ext)['acc']
            assert round(up['avg_score'][0],9)==round(ours['avg_score'][0],9); counts['dude']+=1
        fmts=[rb(random.choice(['Int','Float','Str','List','None'])) for _ in range(n)]
        srcs=[random.choice(["['Chart']","['Table', 'Figure']","[]","['Pure-text (Plain-text)']","['Generalized-text (Layout)']"]) for _ in range(n)]
        pages=[random.choice(["[]","[1]","[2, 3]"]) for _ in range(n)]
        holder['df']=pd.DataFrame(dict(answer=ans, pred=back, answer_format=fmts, evidence_sources=srcs, evidence_pages=pages))
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                up=ns['MMLongBench_acc']('x')
        except ZeroDivisionError:
            counts['zero']+=1; continue
        ours=mmlongbench.score(data.assign(answer_format=fmts, evidence_sources=srcs, evidence_pages=pages), ext)['acc']
        assert [round(v,9) for v in up['avg_score']]==[round(v,9) for v in ours['avg_score']], (ans,preds,fmts,list(up['avg_score']),list(ours['avg_score']))
        counts['mmlb']+=1
    print('all equal', counts)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
