import Testing
@testable import Tensor

@Test func smoke() {
    let w = Parameter(Tensor([[1, 2], [3, 4]]))
    let x = Tensor([[1, 1]])
    let loss = x.matmul(w.value).square().sum()
    let g = loss.backward()
    #expect(loss.item == 16 + 36)
    #expect(g[w]!.scalars == [8, 12, 8, 12])
    print(Tensor.arange(0, 100).reshaped(to: [10, 10]))
}
