"""nnc's scikit-learn estimator in a Pipeline, tuned with GridSearchCV.

Needs scikit-learn (pip install scikit-learn).
Run: python examples/grid_search.py
"""

from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import nnc

x, y = nnc.datasets.load_digits(dtype="float64")
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0)

pipe = make_pipeline(StandardScaler(),
                     nnc.MLPClassifier(max_iter=60, learning_rate_init=0.005, random_state=0))
grid = GridSearchCV(pipe, {"mlpclassifier__hidden_layer_sizes": [(32,), (128,)],
                           "mlpclassifier__alpha": [1e-4, 1e-1]}, cv=3, n_jobs=1)
grid.fit(x_train, y_train)

for params, score in zip(grid.cv_results_["params"], grid.cv_results_["mean_test_score"]):
    print(f"  {params}: cv accuracy {score:.4f}")
print(f"best: {grid.best_params_}")
print(f"test accuracy of the refitted best pipeline: {grid.score(x_test, y_test):.4f}")
