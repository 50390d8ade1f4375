"""Run typical wrong answers against each exercise's visible tests and print what the tests say
(one kernel run per chapter, see coursecnn.labrun). Usage: .venv/bin/python tools/wrong_answers.py pooling ..."""
import json, sys
from coursecnn import labrun

W = {
 "perceptron-ex1": [
  ("the 0/1 step lr * (y - y_hat) * x (twice too long)", "def perceptron_step(w, b, x, y, lr=1.0):\n    y_hat = 1 if np.dot(w, x) + b > 0 else -1\n    return w + lr * (y - y_hat) * x, float(b + lr * (y - y_hat))"),
  ("predicts +1 when w.x + b >= 0", "def perceptron_step(w, b, x, y, lr=1.0):\n    y_hat = 1 if np.dot(w, x) + b >= 0 else -1\n    if y_hat == y:\n        return w.copy(), float(b)\n    return w + lr * y * x, float(b + lr * y)"),
  ("updates w in place", "def perceptron_step(w, b, x, y, lr=1.0):\n    if y * (np.dot(w, x) + b) <= 0:\n        w += lr * y * x\n        b += lr * y\n    return w, float(b)")],
 "perceptron-ex2": [
  ("naive sigmoid (overflows)", "def sigmoid_derivative(x):\n    s = 1 / (1 + np.exp(-x))\n    return s * (1 - s)"),
  ("returns the sigmoid itself", "def sigmoid_derivative(x):\n    return np.exp(-np.logaddexp(0, -x))")],
 "perceptron-ex3": [
  ("no max subtracted", "def my_softmax(g):\n    e = np.exp(g)\n    return e / e.sum(axis=1, keepdims=True)"),
  ("normalizes columns", "def my_softmax(g):\n    e = np.exp(g - g.max(axis=1, keepdims=True))\n    return e / e.sum(axis=0, keepdims=True)")],
 "backpropagation-ex1": [
  ("lr inside the velocity", "def momentum_step(w, v, g, lr, momentum):\n    v = momentum * v + lr * g\n    return w - v, v"),
  ("updates w in place", "def momentum_step(w, v, g, lr, momentum):\n    v_new = momentum * v + g\n    w -= lr * v_new\n    return w, v_new")],
 "convolution-ex1": [
  ("assumes a square kernel", "def correlate2d(image, kernel):\n    f = kernel.shape[0]\n    out = np.zeros((image.shape[0] - f + 1, image.shape[1] - f + 1))\n    for i in range(out.shape[0]):\n        for j in range(out.shape[1]):\n            out[i, j] = np.sum(image[i:i + f, j:j + f] * kernel)\n    return out"),
  ("flips the kernel (true convolution)", "def correlate2d(image, kernel):\n    kernel = np.flip(np.asarray(kernel, float)); fh, fw = kernel.shape\n    out = np.zeros((image.shape[0] - fh + 1, image.shape[1] - fw + 1))\n    for i in range(out.shape[0]):\n        for j in range(out.shape[1]):\n            out[i, j] = np.sum(image[i:i + fh, j:j + fw] * kernel)\n    return out")],
 "convolution-ex2": [
  ("the 1 where the true convolution wants it", "def shift_kernel(down, right, flip=False):\n    k = np.zeros((3, 3)); k[1 + down, 1 + right] = 1.0\n    return k"),
  ("flip ignored", "def shift_kernel(down, right, flip=False):\n    k = np.zeros((3, 3)); k[1 - down, 1 - right] = 1.0\n    return k")],
 "convolution-ex3": [
  ("ignores the stride (no zeros between dy's entries)", "def correlate2d_backward_x(dy, w, x_shape, stride=1):\n    fh, fw = w.shape\n    return correlate2d(np.pad(dy, ((fh - 1, fh - 1), (fw - 1, fw - 1))), np.flip(w))"),
  ("forgets the rows no window reached", "def correlate2d_backward_x(dy, w, x_shape, stride=1):\n    fh, fw = w.shape; s = stride\n    sp = np.zeros(((dy.shape[0] - 1) * s + 1, (dy.shape[1] - 1) * s + 1)); sp[::s, ::s] = dy\n    return correlate2d(np.pad(sp, ((fh - 1, fh - 1), (fw - 1, fw - 1))), np.flip(w))"),
  ("forgets to flip", "def correlate2d_backward_x(dy, w, x_shape, stride=1):\n    fh, fw = w.shape; s = stride\n    sp = np.zeros(((dy.shape[0] - 1) * s + 1, (dy.shape[1] - 1) * s + 1)); sp[::s, ::s] = dy\n    eh, ew = x_shape[0] - (sp.shape[0] + fh - 1), x_shape[1] - (sp.shape[1] + fw - 1)\n    return correlate2d(np.pad(sp, ((fh - 1, fh - 1 + eh), (fw - 1, fw - 1 + ew))), w)")],
 "padding_stride-ex1": [
  ("true division (a float)", "def output_size(n, f, stride=1, padding=0, dilation=1):\n    return (n + 2 * padding - dilation * (f - 1) - 1) / stride + 1"),
  ("ignores dilation", "def output_size(n, f, stride=1, padding=0, dilation=1):\n    return (n + 2 * padding - f) // stride + 1")],
 "padding_stride-ex2": [
  ("ignores dilation", "def same_padding(f, dilation=1):\n    return (f - 1) // 2"),
  ("true division (a float)", "def same_padding(f, dilation=1):\n    return dilation * (f - 1) / 2")],
 "padding_stride-ex3": [
  ("treats n as the output size", "def standard_mults(c_in, c_out, f, n, stride=1, padding=0):\n    return c_out * c_in * f * f * n * n\n\ndef separable_mults(c_in, c_out, f, n, stride=1, padding=0):\n    return c_in * f * f * n * n + c_in * c_out * n * n"),
  ("pointwise step on the input size", "def standard_mults(c_in, c_out, f, n, stride=1, padding=0):\n    o = (n + 2 * padding - f) // stride + 1\n    return c_out * c_in * f * f * o * o\n\ndef separable_mults(c_in, c_out, f, n, stride=1, padding=0):\n    o = (n + 2 * padding - f) // stride + 1\n    return c_in * f * f * o * o + c_in * c_out * n * n")],
 "pooling-ex1": [
  ("counts windows that do not fit (rounds up)", "def window_counts(shape, k, s):\n    per = []\n    for n in shape:\n        a = np.zeros(n, dtype=int)\n        for start in range(0, n, s):\n            a[start:start + k] += 1\n        per.append(a)\n    return np.outer(per[0], per[1])"),
  ("adds the two axes instead of multiplying", "def window_counts(shape, k, s):\n    per = []\n    for n in shape:\n        a = np.zeros(n, dtype=int)\n        for start in range(0, n - k + 1, s):\n            a[start:start + k] += 1\n        per.append(a)\n    return per[0][:, None] + per[1][None, :]"),
  ("a 0/1 mask of covered pixels", "def window_counts(shape, k, s):\n    c = np.zeros(shape, dtype=int)\n    for i in range(0, shape[0] - k + 1, s):\n        for j in range(0, shape[1] - k + 1, s):\n            c[i:i + k, j:j + k] = 1\n    return c")],
 "pooling-ex3": [
  ("divides by k, not k * k", "def avg_pool_backward(dy, x_shape, k, s):\n    g = np.zeros(x_shape)\n    for a in range(k):\n        for b in range(k):\n            g[a:a + (dy.shape[0] - 1) * s + 1:s, b:b + (dy.shape[1] - 1) * s + 1:s] += dy / k\n    return g"),
  ("assigns instead of adding (overlaps lost)", "def avg_pool_backward(dy, x_shape, k, s):\n    g = np.zeros(x_shape)\n    for a in range(k):\n        for b in range(k):\n            g[a:a + (dy.shape[0] - 1) * s + 1:s, b:b + (dy.shape[1] - 1) * s + 1:s] = dy / (k * k)\n    return g")],
 "architectures-ex1": [
  ("forgets the biases", "def layer_params(layer):\n    return layer['in'] * layer['out'] * layer.get('kernel', 1) ** 2"),
  ("kernel not squared", "def layer_params(layer):\n    return layer['in'] * layer['out'] * layer.get('kernel', 1) + (layer['out'] if layer['bias'] else 0)")],
 "architectures-ex2": [
  ("ignores stride", "def stack_shape(shape, layers):\n    shape = tuple(shape)\n    for layer in layers:\n        if layer[0] == 'flatten':\n            shape = (int(np.prod(shape)),); continue\n        c, h, w = shape\n        if layer[0] == 'conv':\n            _, k, f, s, p = layer; shape = (k, h + 2 * p - f + 1, w + 2 * p - f + 1)\n        else:\n            _, f, s = layer; shape = (c, h - f + 1, w - f + 1)\n    return shape"),
  ("ignores padding", "def stack_shape(shape, layers):\n    shape = tuple(shape)\n    for layer in layers:\n        if layer[0] == 'flatten':\n            shape = (int(np.prod(shape)),); continue\n        c, h, w = shape\n        if layer[0] == 'conv':\n            _, k, f, s, p = layer; shape = (k, (h - f) // s + 1, (w - f) // s + 1)\n        else:\n            _, f, s = layer; shape = (c, (h - f) // s + 1, (w - f) // s + 1)\n    return shape")],
 "architectures-ex3": [
  ("LeNet-5 unchanged (too many parameters)", "def make_small_lenet():\n    return LeNet5()"),
  ("wrong flatten size", "def make_small_lenet():\n    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 32), nn.ReLU(), nn.Linear(32, 10))")],
}
chapters = sys.argv[1:]
for ch in chapters:
    r = labrun.run_chapter(f"book/chapters/{ch}.ipynb", check=True, wrong={k: v for k, v in W.items() if k.startswith(ch + "-")})
    print(json.dumps({"path": r.path, "stub": r.stub_messages, "wrong": r.wrong_messages, "problems": r.problems, "s": r.seconds}), flush=True)
