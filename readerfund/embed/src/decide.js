// Placeholder: the appeal's decision rules land here (see issue 2).
var ReaderfundDecide = { decide: function () { return null; } };
if (typeof module !== 'undefined' && module) { module.exports = ReaderfundDecide; }
