import { it } from 'vitest';
import { analyzeText } from './support.js';
it('smoke', () => {
  const a = analyzeText(`import numpy as np
from choppa import Choppa
dutch = Choppa(cluster_id="x", result_size_max=2**10)
T = 1

@dutch.remote
def f(a, b=2):
    """doc"""
    return np.sqrt(a) + T

if __name__ == '__main__':
    with dutch.session():
        r = f(1, b=T)
        f(r)
`);
  console.log(JSON.stringify(a, null, 1));
});
