"""Benchmarks: tools over the product that print their numbers. The assistant never imports them;
the command line does, only when `assistant bench` runs.

- `questions`: the question sets and how replies are scored;
- `typed`: typed questions: accuracy per set, matching latency, load time;
- `synthesis`: speech synthesis: time to first audio and real-time factor per voice engine;
- `spoken`: spoken questions in quiet and in babble through the listening path, built from
  `voices` (the spoken questions' cache, babble, mixing), `trial` (one question through the
  listening path, and the scores of many) and `wer` (word error rate).
"""
